/** Entry point of the inspector's page: the token from the URL, the API, the styles, the app. */
import { html, render } from 'htm/preact';
import { createApi } from './api.js';
import { App } from './app.js';
import { STYLE } from './style.js';

const root = document.getElementById('app')!;
const token = new URLSearchParams(location.search).get('token') ?? '';
const style = document.createElement('style');
style.textContent = STYLE;
document.head.append(style);
render(html`<${App} api=${createApi(root.dataset.base ?? '', token)} />`, root);
