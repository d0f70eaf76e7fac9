/* Career coach chat widget: one script tag on any page, no build step.
 *
 *   <script src="https://coach.example.org/webhooks/widget/coach-widget.js"
 *           data-title="Career coach" data-color="#0b6e4f"></script>
 *
 * Options, as data-* attributes on that tag (all optional):
 *   data-server  the Rasa server's address (default: where this script was loaded from)
 *   data-path    socket.io's path on that server (default: /socket.io/)
 *   data-title   the panel's heading
 *   data-color   the accent colour (buttons, header, your own messages)
 *   data-open    "true" to show the panel open on page load
 *
 * It talks to Rasa's socket.io channel (addons/website_widget.py). The conversation id the
 * server issues and the transcript are kept in localStorage, so a reload continues the same
 * conversation (and the coach still knows your progress). If the server restarts, socket.io
 * reconnects and the widget asks to resume the same conversation.
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const base = new URL(".", script.src);
  const config = {
    server: script.dataset.server || base.origin,
    path: script.dataset.path || "/socket.io/",
    title: script.dataset.title || "Career coach",
    color: script.dataset.color || "#0b6e4f",
    open: script.dataset.open === "true",
  };
  const MAX_STORED_MESSAGES = 100;
  const REPLY_WAIT_MS = 20000;
  const GREETING = {
    from: "bot",
    text:
      "Hi! I coach people heading for Clinical Operations Manager and Clinical Program " +
      "Manager roles. Ask me about degrees, certifications, experience, skills, job search " +
      "and more, and tell me what you have done so far: I'll remember it.",
    buttons: [
      { title: "What can you help with?", payload: "/help" },
      { title: "Set up my profile", payload: "/start_onboarding" },
      { title: "My progress", payload: "/show_progress" },
      { title: "My goals", payload: "/list_goals" },
    ],
  };

  // --- what survives a reload ---------------------------------------------------------------
  const storageKey = "coach-widget:" + config.server;
  const store = {
    read() {
      try {
        return JSON.parse(localStorage.getItem(storageKey)) || {};
      } catch (_) {
        return {};
      }
    },
    write(state) {
      try {
        localStorage.setItem(storageKey, JSON.stringify(state));
      } catch (_) {
        /* private browsing or full storage: the chat still works, it just won't persist */
      }
    },
    sessionId() {
      return this.read().sessionId || null;
    },
    setSessionId(sessionId) {
      this.write({ ...this.read(), sessionId });
    },
    messages() {
      return this.read().messages || [];
    },
    addMessage(message) {
      const state = this.read();
      state.messages = (state.messages || []).concat([message]).slice(-MAX_STORED_MESSAGES);
      this.write(state);
    },
  };

  // --- the page elements, inside a shadow root so the host page's CSS cannot reach them ---------
  const host = document.createElement("div");
  host.id = "coach-widget";
  document.body.appendChild(host);
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
    <style>
      :host { all: initial; }
      * { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
      .launcher { position: fixed; right: 20px; bottom: 20px; border: 0; border-radius: 28px;
        padding: 14px 20px; background: var(--accent); color: #fff; font-size: 15px;
        cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483000; }
      .panel { position: fixed; right: 20px; bottom: 20px; width: min(380px, calc(100vw - 40px));
        height: min(560px, calc(100vh - 40px)); display: none; flex-direction: column;
        background: #fff; border-radius: 12px; overflow: hidden; z-index: 2147483000;
        box-shadow: 0 8px 30px rgba(0,0,0,.3); }
      .panel.open { display: flex; }
      header { background: var(--accent); color: #fff; padding: 12px 14px; display: flex;
        align-items: center; justify-content: space-between; font-weight: 600; }
      header button { background: none; border: 0; color: #fff; font-size: 20px; cursor: pointer; }
      .log { flex: 1; overflow-y: auto; padding: 12px; background: #f6f7f8; }
      .message { max-width: 88%; margin: 6px 0; padding: 8px 11px; border-radius: 10px;
        font-size: 14px; line-height: 1.4; white-space: normal; overflow-wrap: anywhere; }
      .message p { margin: 0 0 4px; }
      .message p:last-child { margin-bottom: 0; }
      .message ul, .message ol { margin: 4px 0; padding-left: 20px; }
      .message li { margin: 2px 0; }
      .message li.done::marker { content: "\\2713  "; color: var(--accent); }
      .message progress.path-progress { width: 100%; accent-color: var(--accent); }
      .message li.todo::marker { content: "\\25CB  "; }
      .message .heading { font-weight: 600; }
      .message .source { font-size: 12px; color: #5f6b76; }
      .bot { background: #fff; border: 1px solid #e1e4e8; color: #1f2328; }
      .user { background: var(--accent); color: #fff; margin-left: auto; }
      .typing { color: #5f6b76; font-style: italic; }
      .quick-replies { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0 8px; }
      .quick-replies button { border: 1px solid var(--accent); color: var(--accent);
        background: #fff; border-radius: 16px; padding: 6px 12px; font-size: 13px;
        cursor: pointer; }
      .quick-replies button:hover { background: var(--accent); color: #fff; }
      .status { font-size: 12px; color: #9a3412; padding: 0 12px; min-height: 0; }
      .status:not(:empty) { padding: 6px 12px; background: #fff7ed; }
      form { display: flex; border-top: 1px solid #e1e4e8; }
      input { flex: 1; border: 0; padding: 12px; font-size: 14px; outline: none; }
      form button { border: 0; background: none; color: var(--accent); font-weight: 600;
        padding: 0 14px; cursor: pointer; }
    </style>
    <button class="launcher" type="button" aria-label="Open the career coach chat"></button>
    <section class="panel" aria-label="">
      <header><span class="title"></span>
        <button class="close" type="button" aria-label="Close the chat">&times;</button></header>
      <div class="log" role="log" aria-live="polite"></div>
      <div class="status" role="status"></div>
      <form>
        <input name="message" autocomplete="off" maxlength="2000"
               placeholder="Type a question…" aria-label="Your message">
        <button type="submit">Send</button>
      </form>
    </section>`;
  host.style.setProperty("--accent", config.color);
  const launcher = root.querySelector(".launcher");
  const panel = root.querySelector(".panel");
  const log = root.querySelector(".log");
  const status = root.querySelector(".status");
  const form = root.querySelector("form");
  const input = root.querySelector("input");
  launcher.textContent = config.title;
  root.querySelector(".title").textContent = config.title;
  panel.setAttribute("aria-label", config.title);

  function setOpen(open) {
    panel.classList.toggle("open", open);
    launcher.style.display = open ? "none" : "";
    if (open) input.focus();
  }
  launcher.addEventListener("click", () => setOpen(true));
  root.querySelector(".close").addEventListener("click", () => setOpen(false));

  // --- rendering: the bot writes plain text with "- " bullets, "1. " steps, "[x]" checklists --
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // never innerHTML: replies are text
    return node;
  }

  function renderText(text, container) {
    let list = null;
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    lines.forEach((line, index) => {
      const bullet = line.match(/^\s*[-•]\s+(.*)$/);
      const step = line.match(/^\s*\d+[.)]\s+(.*)$/);
      const check = line.match(/^\s*\[( |x)\]\s+(.*)$/);
      if (bullet || step || check) {
        const kind = step ? "ol" : "ul";
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = element(kind);
          container.appendChild(list);
        }
        if (check) {
          list.appendChild(element("li", check[1] === "x" ? "done" : "todo", check[2]));
        } else {
          list.appendChild(element("li", null, (bullet || step)[1]));
        }
        return;
      }
      list = null;
      let className = null;
      if (/^Sources?: /.test(line)) className = "source";
      else if (index === 0 && lines.length > 2) className = "heading";
      container.appendChild(element("p", className, line));
      // "Your progress: 3 of 10 milestones (30%)" also shows as a bar.
      const milestones = line.match(/\b(\d+) of (\d+) milestones\b/);
      if (milestones) {
        const bar = element("progress", "path-progress");
        bar.max = Number(milestones[2]);
        bar.value = Number(milestones[1]);
        bar.setAttribute("aria-label", milestones[0]);
        container.appendChild(bar);
      }
    });
  }

  function showMessage(message) {
    const bubble = element("div", "message " + message.from);
    if (message.from === "bot") renderText(message.text, bubble);
    else bubble.textContent = message.text;
    log.appendChild(bubble);
    log.querySelectorAll(".quick-replies").forEach((row) => row.remove());
    if (message.buttons && message.buttons.length) {
      const row = element("div", "quick-replies");
      message.buttons.forEach((button) => {
        const node = element("button", null, button.title);
        node.type = "button";
        node.addEventListener("click", () => send(button.payload, button.title));
        row.appendChild(node);
      });
      log.appendChild(row);
    }
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(message) {
    store.addMessage(message);
    showMessage(message);
  }

  let typing = null;
  let replyTimer = null;
  function showTyping() {
    if (!typing) {
      typing = element("div", "message bot typing", "…");
      log.appendChild(typing);
      log.scrollTop = log.scrollHeight;
    }
    clearTimeout(replyTimer);
    replyTimer = setTimeout(() => {
      hideTyping();
      status.textContent = "No answer yet. The coach may be busy; please try again in a moment.";
    }, REPLY_WAIT_MS);
  }
  function hideTyping() {
    clearTimeout(replyTimer);
    if (typing) typing.remove();
    typing = null;
  }

  // --- talking to the server ----------------------------------------------------------------
  let socket = null;
  let ready = false; // true once the server confirmed which conversation this is
  const outbox = []; // what the learner sent while (re)connecting

  function send(text, shownAs) {
    const message = text.trim();
    if (!message) return;
    addMessage({ from: "user", text: shownAs || message });
    showTyping();
    outbox.push(message);
    flush();
  }

  function flush() {
    while (ready && socket && outbox.length) {
      socket.emit("user_uttered", { message: outbox.shift(), session_id: store.sessionId() });
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
    input.value = "";
  });

  function connect() {
    // WebSocket first: one connection stays with one Sanic worker, while long-polling requests
    // can land on different workers and lose the session. Polling only where WebSocket fails.
    socket = window.io(config.server, {
      path: config.path,
      reconnectionDelayMax: 3000,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
    socket.on("connect", () => {
      socket.emit("session_request", { session_id: store.sessionId() });
    });
    socket.on("session_confirm", (sessionId) => {
      store.setSessionId(sessionId);
      ready = true;
      status.textContent = "";
      flush();
    });
    socket.on("bot_uttered", (reply) => {
      hideTyping();
      status.textContent = "";
      addMessage({
        from: "bot",
        text: reply.text || "",
        buttons: (reply.quick_replies || []).map((b) => ({ title: b.title, payload: b.payload })),
      });
    });
    socket.on("disconnect", () => {
      ready = false;
      status.textContent = "Connection lost. Reconnecting…";
    });
    socket.on("connect_error", () => {
      ready = false;
      status.textContent = "Can't reach the coach right now. Retrying…";
    });
  }

  const history = store.messages();
  if (history.length) history.forEach(showMessage);
  else addMessage(GREETING);
  setOpen(config.open);

  if (window.io) {
    connect();
  } else {
    const loader = document.createElement("script");
    loader.src = new URL("socket.io.min.js", base).href;
    loader.onload = connect;
    loader.onerror = () => {
      status.textContent = "The chat could not load. Please try again later.";
    };
    document.head.appendChild(loader);
  }
})();
