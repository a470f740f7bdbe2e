"""Phone helpers shared by the phone tests and benchmarks/phone.py: a throttled touch phone, the
tap -> DOM-updated clock, a recorder in place of speechSynthesis, and the layout checks."""

from __future__ import annotations

import weakref

PHONES = {"360": {"width": 360, "height": 740}, "320": {"width": 320, "height": 640}}

# A stand-in for the browser's speech synthesis: it has a voice per language and writes down
# what it is asked to say (text and language) instead of speaking.
SPEECH_RECORDER = """
window.__spoken = [];
window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; this.voice = null; };
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
  getVoices: () => [{ lang: "en-GB", name: "Recorder EN" }, { lang: "de-DE", name: "Recorder DE" }],
  speak: (u) => window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.lang }),
  cancel: () => {}, addEventListener: () => {},
}});
"""

# Stamps the moment a finger touches the screen, and the first change of the grid after it (set up
# once per page, reset by each later call).
TAP_CLOCK = """() => {
  if (window.__tap) { window.__tap.start = 0; window.__tap.updated = 0; return; }
  window.__tap = { start: 0, updated: 0 };
  const start = () => { window.__tap.start = performance.now(); window.__tap.updated = 0; };
  document.addEventListener("touchstart", start, true);
  document.addEventListener("pointerdown", () => { if (!window.__tap.start) start(); }, true);
  new MutationObserver(() => {
    if (window.__tap.start && !window.__tap.updated) window.__tap.updated = performance.now();
  }).observe(document.querySelector(".p-grid"), { childList: true, subtree: true });
}"""


def phone_context(browser, base_url: str, size: str = "360", *, recorder: bool = False, throttle: float = 4):
    """A touch phone of `size` whose CPU runs `throttle` times slower (Chrome DevTools emulation)."""
    context = browser.new_context(
        viewport=PHONES[size], device_scale_factor=2, is_mobile=True, has_touch=True, base_url=base_url
    )
    context.set_default_timeout(15_000)
    if recorder:
        context.add_init_script(SPEECH_RECORDER)
    page = context.new_page()
    if throttle > 1:
        slow_cpu(page, throttle)
    return context, page


_DEVTOOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page -> its DevTools session


def slow_cpu(page, rate: float) -> None:
    """Run the page's CPU `rate` times slower from now on (1: full speed again). Chromium slows a
    page by spinning a core beside it, even while the page is idle, so a test slows only the
    moments it measures: on a 2-core machine a whole slowed sort held a core for a minute.
    One DevTools session per page, however often the speed changes."""
    if page not in _DEVTOOLS:
        _DEVTOOLS[page] = page.context.new_cdp_session(page)
    _DEVTOOLS[page].send("Emulation.setCPUThrottlingRate", {"rate": rate})


def timed_tap(page, locator, read_ms: int = 0) -> float:
    """Tap `locator` after `read_ms` (a person reads the card first, and the page finishes what the
    last tap started); milliseconds from the touch to the grid's DOM being updated."""
    page.wait_for_timeout(read_ms)
    page.evaluate(TAP_CLOCK)
    locator.tap()
    # One round trip: on a slowed page each costs tens of milliseconds of the test's time.
    waited = page.wait_for_function("window.__tap.updated > 0 && {ms: window.__tap.updated - window.__tap.start}")
    return waited.json_value()["ms"]


def wider_than_viewport(page) -> list[str]:
    """Elements that stick out of the viewport sideways (the skip link waits off screen by design)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll("body *")).filter((el) => {
             const box = el.getBoundingClientRect();
             return box.width > 0 && (box.right > innerWidth + 0.5 || box.left < -0.5) && !el.closest(".skip-link");
           }).map((el) => el.tagName + "." + el.className).slice(0, 8)
           .concat(document.documentElement.scrollWidth > innerWidth ? ["page scrolls sideways"] : [])"""
    )


def words_broken_in_buttons(page) -> list[str]:
    """Words of visible button labels that the browser split over two lines."""
    return page.evaluate(
        """() => {
          const broken = [];
          for (const button of document.querySelectorAll("button, .button")) {
            const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              for (const match of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const boxes = Array.from(range.getClientRects()).filter((r) => r.width > 0);
                const lines = new Set(boxes.map((r) => Math.round(r.top)));
                if (lines.size > 1) broken.push(match[0]);
              }
            }
          }
          return broken;
        }"""
    )


def in_viewport(page, *selectors: str) -> bool:
    """Every element matching each selector is fully inside the viewport (and each matches at
    least one); one round trip to the page for all of them."""
    return page.evaluate(
        """(selectors) => selectors.every((selector) => {
          const found = Array.from(document.querySelectorAll(selector));
          return found.length > 0 && found.every((el) => {
            const box = el.getBoundingClientRect();
            return box.height > 0 && box.top >= -0.5 && box.bottom <= innerHeight + 0.5
              && box.left >= -0.5 && box.right <= innerWidth + 0.5;
          });
        })""",
        list(selectors),
    )
