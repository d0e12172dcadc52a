/** The bottom layer, depending on nothing: typed errors, the seeded random generator, logging, and the generic option engine. */
export { ArborError, UsageError, NotFoundError, InputError, ModelFormatError, StoreError, FileError, CheckpointError, assertPositiveInteger, assertNonNegativeInteger, type StoreFault, type CheckpointFault } from './errors.js';
export { fileError, errnoCode, isSystemError, type FileAction } from './fs-errors.js';
export { silentLogger, stderrLogger, type Logger, type Progress } from './log.js';
export { Rng, deriveSeed, DEFAULT_SEED } from './rng.js';
export { preview } from './preview.js';
export { threadCpuSeconds } from './thread-cpu.js';
export { camel, envName, coerce, resolveOptions, optionsMarkdown, type OptionBound, type OptionSpec, type OptionType } from './options.js';
