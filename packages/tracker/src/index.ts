export { trackerSnippet } from './snippet.ts';
export { type CallOptions, type Consent, createTracker, PURPOSES, type Purpose, Tracker, type TrackerOptions } from './tracker.ts';
