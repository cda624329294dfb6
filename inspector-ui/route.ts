/** The inspector's three pages, addressed by the URL's hash so that the token stays in the query. */

export type Route =
  | { readonly view: 'actors' }
  | { readonly view: 'instances'; readonly name: string; readonly prefix: string }
  | { readonly view: 'instance'; readonly name: string; readonly id: string };

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The page a hash names (`#/a/NAME`, `#/a/NAME/ID`, `#/a/NAME?prefix=P`); the actors page for anything else. */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'a' || parts.length < 2 || parts.length > 3) return { view: 'actors' };
  const name = decode(parts[1]!);
  if (name === undefined || name === '') return { view: 'actors' };
  if (parts.length === 2) return { view: 'instances', name, prefix: new URLSearchParams(search).get('prefix') ?? '' };
  const id = decode(parts[2]!);
  return id === undefined || id === '' ? { view: 'actors' } : { view: 'instance', name, id };
}

/** The hash of a page; ids may hold any character, so every part is percent-encoded. */
export function hrefOf(route: Route): string {
  switch (route.view) {
    case 'actors':
      return '#/';
    case 'instances':
      return `#/a/${encodeURIComponent(route.name)}${route.prefix === '' ? '' : `?prefix=${encodeURIComponent(route.prefix)}`}`;
    case 'instance':
      return `#/a/${encodeURIComponent(route.name)}/${encodeURIComponent(route.id)}`;
  }
}
