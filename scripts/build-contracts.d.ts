// Types of scripts/build-contracts.js for the TypeScript tests and benchmarks that import it.

export declare const SOLC_VERSION: string;
export declare const OPENZEPPELIN_VERSION: string;
export declare const SOLC_SETTINGS: Readonly<{
  evmVersion: string;
  optimizer: { enabled: boolean; runs: number };
  metadata: { bytecodeHash: string };
  outputSelection: Record<string, Record<string, string[]>>;
}>;
export declare const PACKAGE_ROOT: string;

export declare class ContractsBuildError extends Error {
  readonly problems: string[];
}

export interface ContractsBuildOptions {
  /** The package root; defaults to the checkout holding the script. */
  rootDir?: string;
}

export declare function compileContracts(options?: ContractsBuildOptions): {
  files: Map<string, string>;
  warnings: string[];
};
export declare function buildContracts(options?: ContractsBuildOptions): {
  written: string[];
  warnings: string[];
};
export declare function checkContractsBuild(options?: ContractsBuildOptions): string[];
