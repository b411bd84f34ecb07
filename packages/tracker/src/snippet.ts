/**
 * The head snippet: defines `window.attune` at once, queues calls made before the main script
 * arrives, and loads it asynchronously (as analytics.js does). Render it into the page head.
 */
export function trackerSnippet(options: { writeKey: string; apiHost: string; scriptUrl: string; consentRequired?: boolean }): string {
  const opts = JSON.stringify({ writeKey: options.writeKey, apiHost: options.apiHost, ...(options.consentRequired ? { consent: { required: true } } : {}) }).replace(/</g, '\\u003c');
  const src = JSON.stringify(options.scriptUrl).replace(/</g, '\\u003c');
  return (
    `!function(w,d){var a=w.attune=w.attune||[];if(a.initialized)return;a.initialized=1;a._options=${opts};` +
    `["page","track","identify","group","alias","reset"].forEach(function(m){a[m]=function(){a.push([m].concat([].slice.call(arguments)))}});` +
    `a.consent={set:function(c){a.push(["consent.set",c])}};` +
    `var s=d.createElement("script");s.async=true;s.src=${src};d.head.appendChild(s)}(window,document);`
  );
}
