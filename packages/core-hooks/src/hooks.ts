import type { DialFn, ProcessBatchFn, ProcessFn, RedisHook } from './types.js';

/** The three composed chains of a list of hooks. The first hook added is the outermost. */
export interface HookChains {
  process: ProcessFn;
  processBatch: ProcessBatchFn;
  dial: DialFn;
}

/** Compose `hooks` around the base functions; later hooks run inside earlier ones. */
export function composeHooks(hooks: readonly RedisHook[], base: HookChains): HookChains {
  let { process, processBatch, dial } = base;
  for (let i = hooks.length - 1; i >= 0; i--) {
    const hook = hooks[i]!;
    if (hook.process) process = hook.process(process);
    if (hook.processBatch) processBatch = hook.processBatch(processBatch);
    if (hook.dial) dial = hook.dial(dial);
  }
  return { process, processBatch, dial };
}
