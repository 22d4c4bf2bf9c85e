import { Context } from "effect"

/** The per-process correlation id (see kernel/ids.ts), provided by the entry point. */
export class CorrelationId extends Context.Tag("gait/CorrelationId")<CorrelationId, string>() {}
