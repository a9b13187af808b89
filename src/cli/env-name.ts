/** The env twin of a flag: `--dry-run` ⇄ `PERURI_CHAIN_DRY_RUN`. */
export function envName(flag: string): string {
  return `PERURI_CHAIN_${flag.toUpperCase().replace(/-/g, '_')}`;
}
