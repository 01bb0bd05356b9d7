export const USE_CASES_PAGE: string;
/** docs/use-cases.md as the recipes of smoke/recipes.mjs describe it. */
export function renderUseCases(): Promise<string>;
