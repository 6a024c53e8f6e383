import { describe, expect, test } from 'vitest';
import { parseShow, planSystemd, systemd, type UnitState } from '../../../modules/systemd.js';
import { schemaProblems } from '../../helpers/modules.js';

// PID 1 is not systemd on this machine: these tests cover parsing and decisions; the lab
// tests run the module against real systemd.
const SHOW_RUNNING = `Id=postgresql@15-main.service
LoadState=loaded
ActiveState=active
SubState=running
UnitFileState=enabled-runtime
NeedDaemonReload=no
`;

const unit = (over: Partial<UnitState> = {}): UnitState => ({ ...parseShow(SHOW_RUNNING), ...over });
const stepsOf = (plan: ReturnType<typeof planSystemd>) => ('action' in plan ? plan.action!.steps : []);

describe('systemd', () => {
  test('parses systemctl show output', () => {
    expect(parseShow(SHOW_RUNNING)).toEqual({ LoadState: 'loaded', ActiveState: 'active', SubState: 'running', UnitFileState: 'enabled-runtime', NeedDaemonReload: 'no' });
    expect(parseShow('LoadState=not-found\nActiveState=inactive\nUnitFileState=\nExecStart={ path=/bin/x ; argv[]=a=b }\n').UnitFileState).toBe('');
  });

  test.each([
    ['started, already running', {}, { state: 'started' }, []],
    ['started, inactive', { ActiveState: 'inactive' }, { state: 'started' }, ['start']],
    ['started, failed', { ActiveState: 'failed' }, { state: 'started' }, ['start']],
    ['stopped, running', {}, { state: 'stopped' }, ['stop']],
    ['stopped, inactive', { ActiveState: 'inactive' }, { state: 'stopped' }, []],
    ['restarted always acts', {}, { state: 'restarted' }, ['restart']],
    ['reloaded, running', {}, { state: 'reloaded' }, ['reload']],
    ['reloaded, stopped starts it', { ActiveState: 'inactive' }, { state: 'reloaded' }, ['start']],
    ['enabled, disabled', { UnitFileState: 'disabled' }, { enabled: true }, ['enable']],
    ['enabled, static', { UnitFileState: 'static' }, { enabled: true }, []],
    ['disabled, enabled', { UnitFileState: 'enabled' }, { enabled: false }, ['disable']],
    ['masked', { UnitFileState: 'disabled' }, { masked: true }, ['mask']],
    ['unmask then start', { LoadState: 'masked', UnitFileState: 'masked', ActiveState: 'inactive' }, { masked: false, state: 'started' }, ['unmask', 'start']],
    ['daemon-reload only when needed', { NeedDaemonReload: 'yes' }, { daemon_reload: true, state: 'started' }, ['daemon-reload']],
    ['daemon-reload not needed', {}, { daemon_reload: true }, []],
  ] as const)('%s', (_name, over, args, steps) => {
    expect(stepsOf(planSystemd({ unit: unit(over) }, { name: 'postgresql@15-main', daemon_reload: false, no_block: false, ...args }))).toEqual(steps);
  });

  test('daemon_reload without a name always runs', () => {
    expect(stepsOf(planSystemd({ unit: null }, { daemon_reload: true, no_block: false }))).toEqual(['daemon-reload']);
  });

  test('a unit that does not exist: unknown in check mode, an error otherwise', () => {
    const missing = { unit: unit({ LoadState: 'not-found', ActiveState: 'inactive', UnitFileState: '' }) };
    const args = { name: 'pgpool2', state: 'started' as const, daemon_reload: false, no_block: false };
    expect(planSystemd(missing, args, { check: true })).toMatchObject({ unknown: true, reason: expect.stringMatching(/package install/) });
    expect(() => planSystemd(missing, args, { check: false })).toThrow(/unit pgpool2 does not exist/);
    expect(planSystemd(missing, { ...args, state: 'stopped' }, { check: false })).toMatchObject({ changed: false });
  });

  test('diff shows the state before and after', () => {
    const plan = planSystemd({ unit: unit({ ActiveState: 'inactive', UnitFileState: 'disabled' }) }, { name: 'x', state: 'started', enabled: true, daemon_reload: false, no_block: false });
    expect(plan).toMatchObject({ changed: true, summary: 'enable x, start x', diffs: [{ before: 'active: inactive\nenabled: disabled\n', after: 'active: active\nenabled: enabled\n' }] });
  });

  test('schema: a name or daemon_reload is required', () => {
    expect(schemaProblems(systemd, {}).length).toBeGreaterThan(0);
    expect(schemaProblems(systemd, { daemon_reload: true })).toEqual([]);
    expect(schemaProblems(systemd, { name: 'x', state: 'running' })[0].message).toMatch(/one of/);
  });
});
