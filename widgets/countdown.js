// The live round's countdown: display only. The service closes a question at its own
// deadline (and refuses late answers); this shows how long is left, counted down in the
// browser from the `remaining` seconds the service sent, taken at the moment they
// arrived, so a wrong clock on the learner's machine changes nothing.
//
// Sighted people see every second; screen readers hear a polite announcement only at
// the start and at a few thresholds, never every second.

import { h, setText } from "./dom.js";

// Seconds left at which the polite live region speaks (besides the start and zero).
const ANNOUNCE_AT = [60, 30, 10, 5];
const COUNTDOWN_TICK_MS = 200;

/** "20" or "1:05": seconds as a person reads a countdown. */
export function clockText(seconds) {
  if (seconds < 60) return String(seconds);
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

export class Countdown {
  constructor(testid) {
    this.value = h("span", { class: "cl-live-countdown-value", "aria-hidden": "true" });
    this.bar = h("span", { class: "cl-live-countdown-fill" });
    this.announcer = h("p", {
      class: "cl-w-sr-only",
      role: "status",
      "aria-live": "polite",
      testid: `${testid}-announcer`,
    });
    this.label = h("span", { class: "cl-live-countdown-label", "aria-hidden": "true" });
    this.node = h(
      "div",
      { class: "cl-live-countdown", testid, role: "timer", "aria-label": "Time left" },
      h("span", { class: "cl-live-countdown-track", "aria-hidden": "true" }, this.bar),
      this.value,
      this.label,
      this.announcer,
    );
    this.key = null;
    this.deadline = 0; // performance.now() at which the service's countdown reaches zero
    this.total = 0;
    this.shown = null;
    this.timer = 0;
    this.onZero = null;
  }

  /**
   * Count down from `remaining` seconds as of now, for the question `key` (a new key
   * announces the start). `total` is the question's countdown, for the bar.
   */
  start(key, remaining, total, onZero = null) {
    const fresh = key !== this.key;
    this.key = key;
    this.deadline = performance.now() + Math.max(0, Number(remaining) || 0) * 1000;
    this.total = Math.max(1, Number(total) || 1);
    this.onZero = onZero;
    this.node.hidden = false;
    this.node.dataset.state = "running";
    if (fresh) {
      this.shown = null;
      const left = Math.ceil(Math.max(0, Number(remaining) || 0));
      this.say(`${left} seconds to answer.`);
    }
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), COUNTDOWN_TICK_MS);
    this.tick();
  }

  /** Stop at `text` (e.g. "Time is up"); the service's word, not the local clock's. */
  stop(text, announce = true) {
    clearInterval(this.timer);
    this.timer = 0;
    this.node.dataset.state = "stopped";
    this.node.dataset.remaining = "0";
    this.bar.style.width = "0%";
    setText(this.value, "0");
    setText(this.label, text);
    if (announce && this.shown !== "stopped") this.say(text);
    this.shown = "stopped";
  }

  hide() {
    clearInterval(this.timer);
    this.timer = 0;
    this.key = null;
    this.node.hidden = true;
  }

  tick() {
    const ms = Math.max(0, this.deadline - performance.now());
    const seconds = Math.ceil(ms / 1000);
    this.bar.style.width = `${Math.min(100, (ms / 1000 / this.total) * 100).toFixed(1)}%`;
    if (seconds === this.shown) return;
    const previous = this.shown;
    this.shown = seconds;
    this.node.dataset.remaining = String(seconds);
    setText(this.value, clockText(seconds));
    setText(this.label, seconds === 1 ? "second left" : "seconds left");
    this.node.dataset.urgent = String(seconds <= 5);
    if (typeof previous === "number") {
      const crossed = ANNOUNCE_AT.find((at) => previous > at && seconds <= at);
      if (crossed !== undefined && seconds > 0) this.say(`${crossed} seconds left.`);
    }
    if (seconds === 0) {
      clearInterval(this.timer);
      this.timer = 0;
      setText(this.label, "Time is up");
      this.say("Time is up.");
      const done = this.onZero;
      this.onZero = null;
      done?.();
    }
  }

  say(text) {
    setText(this.announcer, text);
  }

  dispose() {
    clearInterval(this.timer);
  }
}
