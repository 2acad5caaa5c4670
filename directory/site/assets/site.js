// Search as you type: the catalog's GET form keeps working without this script; with it,
// typing fetches the results fragment (debounced) and swaps it in, keeping the URL in step.
(() => {
  const form = document.querySelector("form[data-live-search]");
  const body = () => document.getElementById("catalog-body");
  if (!form || !body() || !window.fetch) return;
  const input = form.querySelector('input[type="search"]');
  let timer;
  let inFlight;
  const search = async () => {
    const params = new URLSearchParams(new FormData(form));
    for (const [key, value] of [...params]) if (!value) params.delete(key);
    const url = params.toString() ? `/?${params}` : "/";
    inFlight?.abort();
    inFlight = new AbortController();
    try {
      const response = await fetch(`${url}${url.includes("?") ? "&" : "?"}fragment=results`, {
        signal: inFlight.signal,
        headers: { accept: "text/html" },
      });
      if (!response.ok || response.redirected) return;
      body().outerHTML = await response.text();
      // A live region that stays put, so screen readers hear how many agents now match.
      const status = document.getElementById("search-status");
      const count = document.getElementById("results-heading");
      if (status && count) status.textContent = count.textContent;
      history.replaceState(null, "", url);
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    search();
  });
})();
