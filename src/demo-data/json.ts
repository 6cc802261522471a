/** JSON values as JSON.parse returns them, so records are typed without `any`. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
