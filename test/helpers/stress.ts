/**
 * Race tests come in two sizes: `npm test` runs them small enough to hold on a loaded 2-core machine, and
 * `npm run test:stress` (which `.ci/run` also runs) at full size. The property asserted is the same.
 */
export const STRESS = process.env.LEVIATHAN_STRESS === '1';

export function sized<T>(everyday: T, stress: T): T {
  return STRESS ? stress : everyday;
}
