/**
 * The embedded OpenFGA evaluator: evaluates an OpenFGA model (DSL, schema 1.1) in-process
 * when no OpenFGA server is configured, held to OpenFGA's own conformance suite.
 *
 *   const model = compileModel(dsl);            // throws AuthzError for invalid models
 *   const tuples = new TupleIndex();            // the hot in-memory copy of stored tuples
 *   const fga = new ModelEvaluator(model, tuples);
 *   fga.check({ user: "user:ann", relation: "runner", object: "agent:triage" });
 */

export { AuthzError, type AuthzErrorCode, isAuthzError, OpenFgaErrorCode } from "./errors.js";
export { type BatchCheckRequest, ModelEvaluator } from "./evaluator.js";
export type { AuthorizationModel } from "./model.js";
export { compileModel } from "./model-compiler.js";
export { TupleIndex } from "./tuple-index.js";
export { ContextualTupleReader, type TupleReader } from "./tuple-reader.js";
