/** One file a generator wants on disk. */
export interface FileEntry {
  content: string;
  /** Unix mode: 0o600 for anything that holds key material, 0o644 otherwise. */
  mode: number;
  /** Key material: never overwritten or removed without an explicit --force. */
  secret: boolean;
}

/** Files by workspace-relative POSIX path; generators build these in memory, one writer writes. */
export type FileSet = Map<string, FileEntry>;

/** A public, generated file. */
export function publicFile(content: string): FileEntry {
  return { content, mode: 0o644, secret: false };
}

/** A file holding a key or a secret (mode 0600). */
export function secretFile(content: string): FileEntry {
  return { content, mode: 0o600, secret: true };
}

/**
 * JSON as every generated JSON file is written: two-space indent and a final newline.
 * @param value - a plain object whose key order is the order wanted in the file
 */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
