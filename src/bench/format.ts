/** How the bench's reports write a duration: two decimals under ten seconds, one above. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
