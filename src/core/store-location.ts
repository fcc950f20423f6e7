/**
 * Where the stores are: a SQLite file path (the embedded default) or a postgres:// URL
 * (a shared store). Decided from text alone, before any adapter is loaded.
 */

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/** quire.yaml's file name (kept here too: finding the store must not load the config parser). */
export const CONFIG_FILE_NAME = 'quire.yaml';

export const PASSWORD_IN_CONFIG = 'store: a password here would be committed with the workspace; remove it and give it in PGPASSWORD or ~/.pgpass';

/**
 * Why a store location may not be written in a file (quire.yaml is committed to git): a
 * password in the URL. The password comes from PGPASSWORD or ~/.pgpass instead.
 */
export function passwordInUrl(text: string): boolean {
  if (!isPostgresUrl(text)) return false;
  try {
    return new URL(text).password !== '';
  } catch {
    return false;
  }
}

/** A location as it may be shown: a URL without its password. */
export function displayLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password === '') return location;
    url.password = '';
    return url.toString();
  } catch {
    return location.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/, '$1***@');
  }
}
