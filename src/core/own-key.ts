/**
 * Keyed reads and writes of the state's records. Ids come from event data, so `__proto__` or `constructor`
 * must not reach Object.prototype.
 */
export function own<T>(rec: Record<string, T>, key: string): T | undefined {
  // A miss (the usual answer for `done`) needs no second look; a hit is checked to be the record's own.
  const value = rec[key];
  return value !== undefined && Object.hasOwn(rec, key) ? value : undefined;
}

export function put<T>(rec: Record<string, T>, key: string, value: T): void {
  // Only `__proto__` is an accessor on a plain object; every other key is a plain (and faster) assignment.
  if (key === '__proto__') {
    Object.defineProperty(rec, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    rec[key] = value;
  }
}
