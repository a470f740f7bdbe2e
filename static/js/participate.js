/* qsort participant flow: read aloud and "take a break" on every page; the pre-sort, the grid
 * and the review comments on theirs.
 *
 * The server renders every page from the saved draft; this module only moves cards around in
 * the DOM, keeps `state` (the draft JSON, see qsort/participate/services.py) in step with it and
 * saves it. Card text is never written as HTML (textContent only): statements are data.
 */
(function () {
  "use strict";

  const lang = document.documentElement.lang || "en";
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  let saveBeforeBreak = null;

  /* --- read aloud: the browser's own voices, in the study's language; nothing leaves the device --- */
  const synth = window.speechSynthesis;
  function voice() {
    const base = lang.toLowerCase().split("-")[0];
    return (synth ? synth.getVoices() : []).find(function (v) { return v.lang.toLowerCase().split(/[-_]/)[0] === base; });
  }
  function showSpeakers() {
    const can = Boolean(voice());
    document.querySelectorAll("[data-speak]").forEach(function (button) { button.hidden = !can; });
  }
  if (synth) {
    showSpeakers();
    synth.addEventListener("voiceschanged", showSpeakers);
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-speak]");
    const source = button && document.querySelector(button.dataset.speak);
    if (!source || !voice()) return;
    synth.cancel();
    const utterance = new SpeechSynthesisUtterance(source.textContent.replace(/\s+/g, " ").trim());
    utterance.lang = lang;
    utterance.voice = voice();
    synth.speak(utterance);
  });

  /* --- take a break: the cards go out of sight, the work is saved, and it all comes back as it was --- */
  const breakButton = document.querySelector("[data-break]");
  const breakPanel = document.getElementById("p-break");
  if (breakButton && breakPanel) {
    const main = document.getElementById("main");
    let scrollY = 0;
    const pause = function (on) {
      if (synth) synth.cancel();
      document.querySelectorAll("dialog[open]").forEach(function (dialog) { dialog.close(); });
      if (on) scrollY = window.scrollY;
      main.hidden = on;
      breakPanel.hidden = !on;
      breakButton.hidden = on;
      if (on) {
        window.scrollTo(0, 0);
        breakPanel.focus();
        if (saveBeforeBreak) saveBeforeBreak();
      } else {
        window.scrollTo(0, scrollY);
        breakButton.focus({ preventScroll: true });
      }
    };
    breakButton.hidden = false;
    breakButton.addEventListener("click", function () { pause(true); });
    breakPanel.querySelector("[data-resume]").addEventListener("click", function () { pause(false); });
  }

  const root = document.querySelector("[data-qsort]");
  if (!root) return;
  const text = JSON.parse(document.getElementById("qsort-text").textContent);
  const state = JSON.parse(document.getElementById("qsort-state").textContent);
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const statusEl = document.getElementById("save-status");
  const announcer = document.getElementById("announcer");

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  }
  // Only the "one"/"other" forms are sent: enough for every language in settings.LANGUAGES.
  const plurals = new Intl.PluralRules(lang);
  function plural(key, count) {
    return text[key + "_" + plurals.select(count)] || text[key + "_other"];
  }
  function signed(value) { return value > 0 ? "+" + value : String(value); }
  function announce(message) {
    // Emptying first makes screen readers repeat a message that is the same as the last one.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 30);
  }

  /* --- autosave: one request at a time, the newest state wins, retried while offline --- */
  let dirty = false, inFlight = null, timer = null, retryDelay = 2000, stopped = false;

  function showStatus(message, problem) {
    statusEl.textContent = message;
    statusEl.classList.toggle("problem", Boolean(problem));
  }
  function changed() {
    state.version += 1;
    dirty = true;
    showStatus(text.saving);
    window.clearTimeout(timer);
    timer = window.setTimeout(flush, 250);
  }
  function flush() {
    if (inFlight) return inFlight;
    if (!dirty || stopped) return Promise.resolve();
    dirty = false;
    inFlight = fetch(root.dataset.saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(state),
    }).then(function (response) {
      if (response.ok) {
        retryDelay = 2000;
        if (!dirty) showStatus(text.saved);
        return;
      }
      if (response.status >= 500) {
        // e.g. a restart or a database outage (503): keep the state here and retry, no sooner
        // than the server's Retry-After.
        const after = parseInt(response.headers.get("Retry-After") || "", 10);
        if (after > 0) retryDelay = Math.min(Math.max(retryDelay, after * 1000), 30000);
        throw new Error(text.paused);
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        // The server refused this state (another window moved on, or the study closed):
        // retrying cannot help, so say so and stop.
        stopped = true;
        showStatus(data.error || text.stale, true);
      });
    }).catch(function (error) {
      dirty = true;
      showStatus(error.message === text.paused ? text.paused : text.offline, true);
      window.clearTimeout(timer);
      timer = window.setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    }).finally(function () {
      inFlight = null;
      if (dirty && retryDelay === 2000) { window.clearTimeout(timer); timer = window.setTimeout(flush, 250); }
    });
    return inFlight;
  }
  async function saveNow() {
    window.clearTimeout(timer);
    while (inFlight) await inFlight;
    if (dirty) await flush();
    return !dirty && !stopped;
  }
  window.addEventListener("online", flush);
  window.addEventListener("pagehide", function () {
    if (!dirty || stopped) return;
    // keepalive lets the last change reach the server even while the tab is closing.
    fetch(root.dataset.saveUrl, {
      method: "POST", keepalive: true, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(state),
    });
  });
  // Moving on to the next step: first make sure the server has the latest state.
  document.querySelectorAll("[data-step-form]").forEach(function (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (form.hasAttribute("data-needs-all")) {
        const left = root.querySelectorAll("[data-pile] .p-card").length;
        if (left) { announce(say(text.place_all, { left: left })); showStatus(say(text.place_all, { left: left }), true); return; }
      }
      if (await saveNow()) form.submit();
    });
  });

  saveBeforeBreak = saveNow;

  /* --- pre-sort: one card at a time onto three piles --- */
  function presort() {
    const cards = Array.from(root.querySelectorAll(".p-bigcard"));
    const counter = document.getElementById("presort-counter");
    const doneBox = root.querySelector(".p-deck-done");
    const pileButtons = Array.from(root.querySelectorAll(".p-pilebuttons [data-pile]"));
    const undo = root.querySelector("[data-undo]");
    const next = root.querySelector("[data-step-form]");
    const decided = function () { return new Map(state.presort); };

    function render() {
      const piles = decided();
      const current = cards.find(function (card) { return !piles.has(Number(card.dataset.number)); });
      cards.forEach(function (card) { card.hidden = card !== current; });
      doneBox.hidden = Boolean(current);
      next.hidden = Boolean(current);
      counter.textContent = current ? say(text.counter, { index: piles.size + 1, total: cards.length }) : "";
      pileButtons.forEach(function (button) { button.disabled = !current; });
      undo.disabled = piles.size === 0;
      root.querySelectorAll("[data-pile-count]").forEach(function (el) {
        el.textContent = state.presort.filter(function (p) { return p[1] === el.dataset.pileCount; }).length;
      });
      return current;
    }
    function choose(pile) {
      const current = render();
      if (!current) return;
      const number = Number(current.dataset.number);
      state.presort.push([number, pile]);
      changed();
      const upcoming = render();
      const message = say(text.presorted, { number: number, pile: text[pile] });
      announce(upcoming ? message + " " + say(text.counter, { index: state.presort.length + 1, total: cards.length }) : message);
      if (!upcoming) next.querySelector("button").focus();
    }
    pileButtons.forEach(function (button) {
      button.addEventListener("click", function () { choose(button.dataset.pile); });
    });
    undo.addEventListener("click", function () {
      const last = state.presort.pop();
      if (!last) return;
      changed();
      render();
      announce(say(text.undone, { number: last[0] }));
    });
    document.addEventListener("keydown", function (event) {
      const keys = { ArrowLeft: "disagree", ArrowDown: "neutral", ArrowRight: "agree" };
      if (keys[event.key] && !event.target.closest("textarea, input, dialog")) { event.preventDefault(); choose(keys[event.key]); }
    });
    // A swipe on the card: left disagrees, right agrees (a bonus: the buttons do the same).
    let startX = null;
    root.querySelector(".p-deck").addEventListener("pointerdown", function (event) { startX = event.clientX; });
    root.querySelector(".p-deck").addEventListener("pointerup", function (event) {
      if (startX === null) return;
      const dx = event.clientX - startX;
      startX = null;
      if (Math.abs(dx) > 80) choose(dx < 0 ? "disagree" : "agree");
    });
    render();
  }

  /* --- the grid: one tap on a place (the next card then comes up by itself), drag, or keyboard --- */
  function grid() {
    const columns = new Map();
    root.querySelectorAll(".p-col").forEach(function (col) {
      const button = root.querySelector('[data-place="' + col.dataset.value + '"]');
      columns.set(Number(col.dataset.value), {
        col: col,
        list: col.querySelector(".p-cards"),
        capacity: Number(col.dataset.capacity),
        count: col.querySelector("[data-count]"),
        button: button,
        buttonCount: button.querySelector("[data-place-count]"),
        fullWord: button.querySelector("[data-full-word]"),
      });
    });
    const values = Array.from(columns.keys()).sort(function (a, b) { return a - b; });
    const piles = {};
    root.querySelectorAll(".p-piles [data-pile]").forEach(function (list) { piles[list.dataset.pile] = list; });
    const dock = {
      box: document.getElementById("dock"),
      msg: root.querySelector("[data-dock-msg]"),
      picked: root.querySelector("[data-dock-picked]"),
      text: root.querySelector("[data-dock-text]"),
      undo: root.querySelector("[data-undo]"),
      moving: root.querySelector("[data-moving]"),
    };
    const big = document.getElementById("big-card");
    const leftEl = document.getElementById("left-count");
    const total = root.querySelectorAll(".p-card").length;
    const history = [];  // earlier places of moved cards, for Undo: {card, list, index}
    // `armed`: a keyboard Enter picked this card, so the next Enter places it. `keyboard`: show the
    // arrow keys' target column (a pointer user never sees a column pre-chosen).
    let picked = null, target = null, armed = false, keyboard = false, lastDrop = 0, lastDropped = null, refusedBy = null;

    const cardsIn = function (list) { return list.querySelectorAll(":scope > .p-card:not(.sortable-fallback)"); };
    const columnOf = function (card) { const v = card.parentElement.dataset.column; return v === undefined ? null : Number(v); };
    const indexIn = function (card) { return Array.prototype.indexOf.call(card.parentElement.children, card); };
    const pileOf = function (number) {
      const entry = state.presort.find(function (p) { return p[0] === number; });
      return entry ? entry[1] : "neutral";
    };
    const isFull = function (value, card) {
      const column = columns.get(value);
      return card.parentElement !== column.list && cardsIn(column.list).length >= column.capacity;
    };
    const fullMessage = function (value) {
      return say(text.full, { column: signed(value), capacity: columns.get(value).capacity });
    };
    const nextCard = function () { return root.querySelector(".p-piles .p-card"); };
    function note(message, problem) {
      dock.msg.textContent = message;
      dock.msg.classList.toggle("problem", Boolean(problem));
    }
    // The pinned dock must not hide the card that was just placed: scrolling keeps clear of it.
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        document.documentElement.style.setProperty("--dock-h", dock.box.offsetHeight + "px");
      }).observe(dock.box);
    }

    // DOM -> state: the cards' places are the truth; the draft follows them.
    function sync() {
      state.grid = {};
      let placed = 0;
      columns.forEach(function (column, value) {
        const numbers = Array.from(cardsIn(column.list)).map(function (c) { return Number(c.dataset.number); });
        if (numbers.length) state.grid[String(value)] = numbers;
        placed += numbers.length;
        column.count.textContent = numbers.length;
        column.col.classList.toggle("is-full", numbers.length >= column.capacity);
        column.buttonCount.textContent = numbers.length + "/" + column.capacity;
      });
      Object.keys(piles).forEach(function (pile) {
        cardsIn(piles[pile]).forEach(function (card) {
          const number = Number(card.dataset.number);
          const entry = state.presort.find(function (p) { return p[0] === number; });
          if (entry) entry[1] = pile; else state.presort.push([number, pile]);
        });
        root.querySelector('[data-pile-count="' + pile + '"]').textContent = cardsIn(piles[pile]).length;
      });
      const left = total - placed;
      leftEl.textContent = left ? say(plural("left", left), { left: left }) : text.none_left;
      refreshScale();
    }
    // A full column is shown as full and not offered (unless it is where the picked card already is).
    function refreshScale() {
      columns.forEach(function (column, value) {
        const full = Boolean(picked) && isFull(value, picked);
        column.button.disabled = full;
        column.button.classList.toggle("is-full", full);
        column.fullWord.textContent = full ? " " + text.full_label : "";
      });
    }
    function placedMessage(card) {
      const value = columnOf(card);
      const number = card.dataset.number;
      if (value === null) return say(text.to_pile, { number: number, pile: text[card.parentElement.dataset.pile] });
      return say(text.placed, {
        number: number, column: signed(value), count: cardsIn(columns.get(value).list).length, capacity: columns.get(value).capacity,
      });
    }
    function refuse(value) {
      const message = fullMessage(value);
      announce(message);
      showStatus(message, true);
      note(say(text.full_short, { column: signed(value), capacity: columns.get(value).capacity }), true);
      const col = columns.get(value).col;
      col.classList.remove("refused");
      void col.offsetWidth;  // restart the shake animation
      col.classList.add("refused");
      window.setTimeout(function () { col.classList.remove("refused"); }, 1500);
    }
    function markTarget() {
      columns.forEach(function (column, value) {
        const on = keyboard && value === target;
        column.col.classList.toggle("is-target", on);
        column.button.classList.toggle("is-target", on);
      });
    }
    function pick(card, quiet) {
      unpick();
      picked = card;
      card.classList.add("is-picked");
      card.setAttribute("aria-pressed", "true");
      dock.text.textContent = card.querySelector(".p-words").textContent;
      dock.picked.hidden = false;
      const current = columnOf(card);
      dock.moving.hidden = current === null;
      target = current !== null ? current : firstRoom(card.parentElement.dataset.pile);
      markTarget();
      refreshScale();
      if (!quiet) announce(say(text.picked, { number: card.dataset.number }) + " " + targetMessage());
    }
    // A card from a pile starts at the first column with room, seen from its own side of the grid.
    function firstRoom(pile) {
      const middle = Math.floor(values.length / 2);
      const order = pile === "disagree" ? values.slice()
        : pile === "agree" ? values.slice().reverse()
        : values.slice().sort(function (a, b) { return Math.abs(values.indexOf(a) - middle) - Math.abs(values.indexOf(b) - middle); });
      return order.find(function (value) { return cardsIn(columns.get(value).list).length < columns.get(value).capacity; }) ?? order[0];
    }
    function unpick() {
      if (picked) { picked.classList.remove("is-picked"); picked.setAttribute("aria-pressed", "false"); }
      picked = null;
      target = null;
      armed = false;
      markTarget();
      dock.picked.hidden = true;
      refreshScale();
    }
    // The next card to place comes up by itself, so a card costs one tap in the grid.
    function advance() {
      const next = nextCard();
      if (next) pick(next, true);
      else if (!dock.msg.classList.contains("problem")) note(dock.msg.textContent || text.all_placed);
    }
    function targetMessage() {
      const column = columns.get(target);
      return say(text.target, { column: signed(target), count: cardsIn(column.list).length, capacity: column.capacity });
    }
    function remember(card, list, index) {
      history.push({ card: card, list: list, index: index });
      if (history.length > 100) history.shift();
      dock.undo.hidden = false;
    }
    function place(card, value) {
      if (isFull(value, card)) { refuse(value); return false; }
      remember(card, card.parentElement, indexIn(card));
      columns.get(value).list.appendChild(card);
      finishMove(card);
      return true;
    }
    function toPile(card) {
      remember(card, card.parentElement, indexIn(card));
      piles[pileOf(Number(card.dataset.number))].prepend(card);
      finishMove(card);
    }
    // Where the card went is said next to the card panel and shown in the grid (the row lights up).
    function finishMove(card) {
      unpick();
      sync();
      changed();
      const message = placedMessage(card);
      announce(message);
      showStatus(message);
      root.querySelectorAll(".just-placed").forEach(function (el) { el.classList.remove("just-placed"); });
      const value = columnOf(card);
      if (value === null) {
        note(say(text.to_pile_short, { pile: text[card.parentElement.dataset.pile] }));
        return;
      }
      const column = columns.get(value);
      note(say(text.placed_short, { column: signed(value), count: cardsIn(column.list).length, capacity: column.capacity }));
      column.col.classList.add("just-placed");
      card.classList.add("just-placed");
      // A pinned dock leaves the grid in view: show the card where it went. An unpinned one (large
      // text) stays where the participant reads the next card.
      if (getComputedStyle(dock.box).position === "sticky") {
        card.scrollIntoView({ block: "nearest", behavior: reduceMotion ? "auto" : "smooth" });
      }
    }

    root.addEventListener("click", function (event) {
      const card = event.target.closest(".p-card");
      if (card && card === lastDropped && Date.now() - lastDrop < 300) return;  // the click that ends a drag is not a tap
      const col = event.target.closest(".p-col");
      if (card) {
        if (picked !== card) pick(card);
      } else if (col && picked && place(picked, Number(col.dataset.value))) {
        advance();
      }
    });
    root.querySelectorAll("[data-place]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (picked && place(picked, Number(button.dataset.place))) advance();
      });
    });
    root.querySelector("[data-to-pile]").addEventListener("click", function () { if (picked) { toPile(picked); advance(); } });
    root.querySelector("[data-cancel]").addEventListener("click", function () {
      unpick();
      announce(text.cancelled);
      advance();
    });
    dock.undo.addEventListener("click", function () {
      const move = history.pop();
      if (!move) return;
      move.card.remove();
      move.list.insertBefore(move.card, move.list.children[move.index] || null);
      unpick();
      sync();
      changed();
      note(text.undone_move);
      announce(text.undone_move + " " + placedMessage(move.card));
      dock.undo.hidden = history.length === 0;
      if (columnOf(move.card) === null) pick(move.card, true); else advance();
    });
    root.querySelector("[data-enlarge]").addEventListener("click", function () {
      big.querySelector("[data-big-text]").textContent = dock.text.textContent;
      big.showModal();
    });
    big.querySelector("[data-close]").addEventListener("click", function () { big.close(); });
    root.addEventListener("keydown", function (event) {
      const card = event.target.closest(".p-card");
      if (!card) return;
      keyboard = true;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (picked !== card || !armed) { pick(card); armed = true; markTarget(); return; }
        const cameFromPile = columnOf(card) === null;
        if (!place(card, target)) return;
        const next = cameFromPile && nextCard();
        (next || card).focus();
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && picked === card) {
        event.preventDefault();
        const index = values.indexOf(target) + (event.key === "ArrowLeft" ? -1 : 1);
        target = values[Math.max(0, Math.min(values.length - 1, index))];
        markTarget();
        columns.get(target).col.scrollIntoView({ block: "nearest", inline: "nearest" });
        announce(targetMessage());
      } else if ((event.key === "ArrowUp" || event.key === "ArrowDown") && picked === card && columnOf(card) !== null) {
        // Reorder within the column: the card swaps with its neighbour and stays picked.
        event.preventDefault();
        const neighbour = event.key === "ArrowUp" ? card.previousElementSibling : card.nextElementSibling;
        if (!neighbour) return;
        remember(card, card.parentElement, indexIn(card));
        if (event.key === "ArrowUp") neighbour.before(card); else neighbour.after(card);
        sync();
        changed();
        card.focus();
        const list = card.parentElement;
        announce(say(text.moved_within, { number: card.dataset.number, position: indexIn(card) + 1, count: list.children.length, column: signed(columnOf(card)) }));
      } else if (event.key === "Escape" && picked) {
        unpick();
        announce(text.cancelled);
      }
    });

    // A drop outside every column and pile leaves the card where it was, and says so.
    function droppedOutside(pointerEvent) {
      const point = pointerEvent && pointerEvent.changedTouches ? pointerEvent.changedTouches[0] : pointerEvent;
      if (!point || point.clientX === undefined) return false;
      const under = document.elementFromPoint(point.clientX, point.clientY);
      return !under || !under.closest(".p-col, .p-pile");
    }
    const lists = Array.from(columns.values()).map(function (c) { return c.list; }).concat(Object.values(piles));
    lists.forEach(function (list) {
      window.Sortable.create(list, {
        group: "qsort",
        animation: reduceMotion ? 0 : 120,
        forceFallback: true,  // pointer events, the same on mouse and touch, no native drag image
        fallbackOnBody: true,
        fallbackTolerance: 4,
        delay: 150,
        delayOnTouchOnly: true,  // on a phone a swipe scrolls; press and hold drags
        touchStartThreshold: 5,
        ghostClass: "is-ghost",
        chosenClass: "is-dragging",
        onStart: unpick,
        onMove: function (event) {
          // A full column refuses the card; the reason is given if the card is dropped there,
          // not while it merely passes over on its way to another column.
          const value = event.to.dataset.column;
          refusedBy = value !== undefined && isFull(Number(value), event.dragged) ? Number(value) : null;
          columns.forEach(function (column, key) { column.col.classList.toggle("is-refusing", key === refusedBy); });
          return refusedBy === null;
        },
        onEnd: function (event) {
          lastDrop = Date.now();
          lastDropped = event.item;
          columns.forEach(function (column) { column.col.classList.remove("is-refusing"); });
          const moved = !(event.from === event.to && event.oldIndex === event.newIndex);
          if (refusedBy === null && droppedOutside(event.originalEvent)) {
            if (moved) event.from.insertBefore(event.item, event.from.children[event.oldIndex] || null);
            note(text.not_moved, true);
            announce(text.not_moved);
            showStatus(text.not_moved, true);
          } else if (moved) {
            remember(event.item, event.from, event.oldIndex);
            finishMove(event.item);
          }
          if (refusedBy !== null) refuse(refusedBy);
          refusedBy = null;
          if (!picked) advance();
        },
      });
    });
    note(nextCard() ? text.pick_hint : text.all_placed);
    advance();
  }

  /* --- review: comments and answers are saved as they are typed --- */
  function review() {
    root.querySelectorAll("textarea").forEach(function (area) {
      area.addEventListener("input", function () {
        const bucket = area.dataset.comment ? state.comments : state.answers;
        const key = area.dataset.comment || area.dataset.answer;
        if (area.value.trim()) bucket[key] = area.value; else delete bucket[key];
        changed();
      });
    });
    const form = root.querySelector("[data-submit-form]");
    form.addEventListener("submit", function () {
      stopped = true;  // the form carries the comments; a late autosave after it would be refused
      // One sort per participant is enforced by the server; this only spares a double click.
      window.setTimeout(function () { form.querySelector("[type=submit]").disabled = true; }, 0);
    });
  }

  ({ presort: presort, grid: grid, review: review })[root.dataset.qsort]();
  root.setAttribute("data-ready", "");  // for people's tools and tests: the page now answers to input
})();
