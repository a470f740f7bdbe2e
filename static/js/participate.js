/* qsort participant flow: the pre-sort, the grid and the review comments.
 *
 * The server renders every page from the saved draft; this module only moves cards around in
 * the DOM, keeps `state` (the draft JSON, see qsort/participate/services.py) in step with it and
 * saves it. Card text is never written as HTML (textContent only): statements are data.
 */
(function () {
  "use strict";

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
  const plurals = new Intl.PluralRules(document.documentElement.lang || "en");
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
      if (keys[event.key] && !event.target.closest("textarea, input")) { event.preventDefault(); choose(keys[event.key]); }
    });
    // A swipe on the card: left disagrees, right agrees.
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

  /* --- the grid: drag, tap-then-tap, or keyboard --- */
  function grid() {
    const columns = new Map();
    root.querySelectorAll(".p-col").forEach(function (col) {
      columns.set(Number(col.dataset.value), {
        col: col,
        list: col.querySelector(".p-cards"),
        capacity: Number(col.dataset.capacity),
        count: col.querySelector("[data-count]"),
        dockButton: root.querySelector('[data-place="' + col.dataset.value + '"]'),
      });
    });
    const values = Array.from(columns.keys()).sort(function (a, b) { return a - b; });
    const piles = {};
    root.querySelectorAll(".p-piles [data-pile]").forEach(function (list) { piles[list.dataset.pile] = list; });
    const dock = {
      hint: root.querySelector("[data-dock-hint]"),
      picked: root.querySelector("[data-dock-picked]"),
      text: root.querySelector("[data-dock-text]"),
    };
    const leftEl = document.getElementById("left-count");
    const total = root.querySelectorAll(".p-card").length;
    let picked = null, target = null, lastDrop = 0, lastDropped = null, refusedBy = null;

    const cardsIn = function (list) { return list.querySelectorAll(":scope > .p-card:not(.sortable-fallback)"); };
    const columnOf = function (card) { const v = card.parentElement.dataset.column; return v === undefined ? null : Number(v); };
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
        column.dockButton.textContent = signed(value) + " (" + numbers.length + "/" + column.capacity + ")";
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
      const col = columns.get(value).col;
      col.classList.remove("refused");
      void col.offsetWidth;  // restart the shake animation
      col.classList.add("refused");
      window.setTimeout(function () { col.classList.remove("refused"); }, 1500);
    }
    function markTarget() {
      columns.forEach(function (column, value) {
        const on = value === target;
        column.col.classList.toggle("is-target", on);
        column.dockButton.classList.toggle("is-target", on);
      });
    }
    function pick(card) {
      unpick();
      picked = card;
      card.classList.add("is-picked");
      card.setAttribute("aria-pressed", "true");
      dock.text.textContent = card.querySelector(".p-words").textContent;
      dock.hint.hidden = true;
      dock.picked.hidden = false;
      const current = columnOf(card);
      const pile = current === null ? card.parentElement.dataset.pile : null;
      target = current !== null ? current : firstRoom(pile);
      markTarget();
      announce(say(text.picked, { number: card.dataset.number }) + " " + targetMessage());
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
      markTarget();
      dock.hint.hidden = false;
      dock.picked.hidden = true;
    }
    function targetMessage() {
      const column = columns.get(target);
      return say(text.target, { column: signed(target), count: cardsIn(column.list).length, capacity: column.capacity });
    }
    function place(card, value) {
      if (isFull(value, card)) { refuse(value); return false; }
      const fromPile = columnOf(card) === null;
      columns.get(value).list.appendChild(card);
      finishMove(card);
      return fromPile;
    }
    function toPile(card) {
      piles[pileOf(Number(card.dataset.number))].prepend(card);
      finishMove(card);
    }
    function finishMove(card) {
      unpick();
      sync();
      changed();
      const message = placedMessage(card);
      announce(message);
      showStatus(message);
    }
    function nextCard() {
      return root.querySelector(".p-piles .p-card");
    }

    root.addEventListener("click", function (event) {
      const card = event.target.closest(".p-card");
      if (card && card === lastDropped && Date.now() - lastDrop < 300) return;  // the click that ends a drag is not a tap
      const head = event.target.closest(".p-col");
      if (card) {
        if (picked === card) unpick(); else pick(card);
      } else if (head && picked) {
        place(picked, Number(head.dataset.value));
      }
    });
    root.querySelectorAll("[data-place]").forEach(function (button) {
      button.addEventListener("click", function () {
        if (!picked) return;
        const card = picked;
        if (place(card, Number(button.dataset.place)) !== false) (nextCard() || card).focus();
      });
    });
    root.querySelector("[data-to-pile]").addEventListener("click", function () { if (picked) toPile(picked); });
    root.querySelector("[data-cancel]").addEventListener("click", function () {
      const card = picked;
      unpick();
      announce(text.cancelled);
      if (card) card.focus();
    });
    root.addEventListener("keydown", function (event) {
      const card = event.target.closest(".p-card");
      if (!card) return;
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        if (picked !== card) { pick(card); return; }
        const cameFromPile = columnOf(card) === null;
        const value = target;
        if (isFull(value, card)) { refuse(value); return; }
        place(card, value);
        (cameFromPile && nextCard() ? nextCard() : card).focus();
      } else if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && picked === card) {
        event.preventDefault();
        const index = values.indexOf(target) + (event.key === "ArrowLeft" ? -1 : 1);
        target = values[Math.max(0, Math.min(values.length - 1, index))];
        markTarget();
        columns.get(target).col.scrollIntoView({ block: "nearest", inline: "nearest" });
        announce(targetMessage());
      } else if (event.key === "Escape" && picked) {
        unpick();
        announce(text.cancelled);
      }
    });

    const lists = Array.from(columns.values()).map(function (c) { return c.list; }).concat(Object.values(piles));
    lists.forEach(function (list) {
      window.Sortable.create(list, {
        group: "qsort",
        animation: 120,
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
          if (moved) finishMove(event.item);
          if (refusedBy !== null) refuse(refusedBy);
          refusedBy = null;
        },
      });
    });
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
