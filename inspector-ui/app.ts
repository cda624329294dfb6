/** The inspector page: a header and the page the URL's hash names. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from './api.js';
import { ActorsPage } from './actors.js';
import { InstancePage } from './instance.js';
import { InstancesPage } from './instances.js';
import { parseRoute, type Route } from './route.js';

export function App({ api }: { api: Api }) {
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return html`<header><a href="#/"><strong>dgen</strong> inspector</a></header><main>${page(api, route)}</main>`;
}

function page(api: Api, route: Route) {
  switch (route.view) {
    case 'actors':
      return html`<${ActorsPage} api=${api} />`;
    case 'instances':
      return html`<${InstancesPage} key=${route.name} api=${api} name=${route.name} prefix=${route.prefix} />`;
    case 'instance':
      return html`<${InstancePage} key=${`${route.name}\u0000${route.id}`} api=${api} name=${route.name} id=${route.id} />`;
  }
}
