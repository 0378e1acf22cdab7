// Shared timers for per-call deadlines, leases and the like. A `setTimeout` per command costs a Node
// `Timeout` (an async resource, which async hooks observe), a priority-queue insert and a
// `clearTimeout`: a visible share of a command that takes a few microseconds. Here entries due after a
// similar delay share one list (kept sorted by due time) and one unref'd Node timer armed for its first
// entry; adding and removing an entry is a few pointer writes, and an entry leaves its list at once
// when cancelled (nothing lingers until its due time).

/**
 * Something due at {@link TimerEntry.due} (`performance.now()` milliseconds) on the shared timer
 * lists: `schedule` it, `cancel` it, and `fire` runs when it is due (subclasses may override it).
 * For adapters and building blocks; an unref'd timer, so a pending entry never keeps a process alive.
 */
export class TimerEntry {
  due = Number.POSITIVE_INFINITY;
  prev: TimerEntry | undefined;
  next: TimerEntry | undefined;
  list: TimerList | undefined;
  readonly #fire: (arg: never) => void;
  readonly #arg: unknown;

  constructor(fire: (arg: never) => void, arg: unknown) {
    this.#fire = fire;
    this.#arg = arg;
  }

  /** Whether the entry is scheduled. */
  get scheduled(): boolean {
    return this.list !== undefined;
  }

  /** (Re)schedule for `due` (`performance.now()` ms). */
  schedule(due: number, now: number = performance.now()): void {
    if (this.list !== undefined) {
      if (this.due === due) return;
      this.list.remove(this);
    }
    this.due = due;
    listFor(Math.max(0, Math.ceil(due - now))).add(this);
  }

  /** Unschedule (a no-op when not scheduled). */
  cancel(): void {
    this.list?.remove(this);
  }

  /** Runs when the entry is due (it is already unscheduled then); subclasses may override it. */
  fire(): void {
    (this.#fire as (arg: unknown) => void)(this.#arg);
  }
}

// Lists by delay bucket: exact up to 16 ms, then 8 buckets per doubling (from the top bits of the
// delay: ≤ 12.5 % apart, no logarithm per schedule), so one lease configuration uses one or two lists
// and every list is nearly in due order.
function bucketOf(delayMs: number): number {
  if (delayMs <= 16) return delayMs;
  if (delayMs >= 2 ** 31) return 16 + 27 * 8;
  const exponent = 31 - Math.clz32(delayMs); // ≥ 4
  return 16 + (exponent - 4) * 8 + ((delayMs >>> (exponent - 3)) & 7);
}

const lists = new Map<number, TimerList>();

function listFor(delayMs: number): TimerList {
  const bucket = bucketOf(delayMs);
  let list = lists.get(bucket);
  if (list === undefined) {
    list = new TimerList(bucket);
    lists.set(bucket, list);
  }
  return list;
}

function onListTimer(list: TimerList): void {
  list.run();
}

/** One sorted doubly linked list of entries and the Node timer armed for its head. */
class TimerList {
  head: TimerEntry | undefined;
  tail: TimerEntry | undefined;
  readonly #bucket: number;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(bucket: number) {
    this.#bucket = bucket;
  }

  add(entry: TimerEntry): void {
    entry.list = this;
    // Walk back from the tail: entries of one bucket arrive almost in due order, so this is O(1).
    let after = this.tail;
    while (after !== undefined && after.due > entry.due) after = after.prev;
    entry.prev = after;
    entry.next = after === undefined ? this.head : after.next;
    if (entry.next === undefined) this.tail = entry;
    else entry.next.prev = entry;
    if (after === undefined) this.head = entry;
    else after.next = entry;
    // A timer armed earlier than needed just fires and re-arms; only an earlier head re-arms now.
    if (entry.due < this.#armedFor) this.#arm(entry.due, performance.now());
  }

  remove(entry: TimerEntry): void {
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    entry.list = undefined;
    // The Node timer stays armed (re-arming costs more than an early wake-up that finds nothing due).
  }

  #arm(due: number, now: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedFor = due;
    this.#timer = setTimeout(onListTimer, Math.max(1, Math.ceil(due - now)), this);
    this.#timer.unref();
  }

  run(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    // Entries due now fire in due order; one that reschedules itself lands after `now`, so the loop ends.
    let entry = this.head;
    while (entry !== undefined && entry.due <= now) {
      this.remove(entry);
      entry.fire();
      entry = this.head;
    }
    if (this.head !== undefined) this.#arm(this.head.due, performance.now());
    else if (lists.get(this.#bucket) === this) lists.delete(this.#bucket);
  }
}

/** How many entries are scheduled in all lists (for tests: a settled call leaves none behind). */
export function scheduledTimerCount(): number {
  let count = 0;
  for (const list of lists.values()) {
    for (let entry = list.head; entry !== undefined; entry = entry.next) count++;
  }
  return count;
}
