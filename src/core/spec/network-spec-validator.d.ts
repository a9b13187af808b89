import type { ValidateFunction } from 'ajv';

/** The network spec validator that scripts/emit-schema.js generates beside this file. */
export declare const validate: ValidateFunction;
export default validate;
