// How to ask for a private key's passphrase (the CLI sets it on a terminal). Its own file, so
// that the CLI can set it without loading the SSH code (ssh2) for a run that never connects.
let prompt: ((question: string) => Promise<string>) | null = null;

export function setPassphrasePrompt(ask: (question: string) => Promise<string>): void {
  prompt = ask;
}

export function passphrasePrompt(): ((question: string) => Promise<string>) | null {
  return prompt;
}
