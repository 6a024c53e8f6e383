import { describe, expect, test } from 'vitest';
import { parseManifest } from '../../../modules/k8s/manifest.js';

const valid = (doc: string) => parseManifest(doc, 'm.yaml').object;
const problems = (doc: string) => {
  try {
    parseManifest(doc, 'm.yaml');
    return '';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('offline manifest validation', () => {
  test.each([
    ['Namespace', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: backend-paragon\n'],
    ['Secret', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: n}\ntype: Opaque\ndata: {A: YWJj}\nstringData: {B: clear}\n'],
    ['ConfigMap', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: coredns, namespace: kube-system}\ndata:\n  Corefile: |\n    .:53 {\n    }\n'],
    ['Service', 'apiVersion: v1\nkind: Service\nmetadata: {name: backend-paragon}\nspec:\n  type: ClusterIP\n  selector: {app: b}\n  ports: [{port: 8080, targetPort: 8080, protocol: TCP}]\n'],
    ['a kind without a local schema', 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {anything: 1}\n'],
  ])('%s passes', (_kind, doc) => {
    expect(valid(doc).metadata.name).toBeTruthy();
  });

  test.each([
    ['an unknown top-level field', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndatas: {a: b}\n', 'm.yaml:4: datas: unknown field'],
    ['a number where a string map is needed', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: 1\n', 'm.yaml:5: data.a: must be string'],
    ['a missing name', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  labels: {a: b}\n', "m.yaml:3: metadata.name: missing required field 'name'"],
    ['an upper-case name', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Backend\n', 'm.yaml:4: metadata.name: must be a lowercase DNS-1123 label'],
    ['Secret data that is not base64', 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: "not base64!"\n', 'm.yaml:5: data.k: must be base64'],
    ['a service port out of range', 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n    - port: 70000\n', 'm.yaml:6: spec.ports.0.port: must be <= 65535'],
    ['a YAML syntax error', 'apiVersion: v1\nkind: [\n', 'm.yaml:'],
    ['two documents', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n', 'holds 2 YAML documents'],
  ])('%s is an error with file:line', (_name, doc, message) => {
    expect(problems(doc)).toContain(message);
  });
});
