import { type Html, html } from "../html.js";

export function errorPage(status: number, message: string): Html {
  const title =
    status === 404 ? "Not found" : status === 403 ? "Not allowed" : "Something went wrong";
  return html`<div class="card error-card">
  <p class="status-code">${status}</p>
  <h1>${title}</h1>
  <p>${status === 404 ? "There is nothing here, or you do not have access to it." : message}</p>
  <p><a href="/">Back to the catalog</a></p>
</div>`;
}
