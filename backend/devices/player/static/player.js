// The e-board player: polls the board's signed manifests every POLL_MS, checks their Ed25519
// signatures against the province keys (WebCrypto), shows an emergency at once over everything,
// otherwise the playlist's highest-priority slides in turn, and reports what it showed.
(() => {
  "use strict";
  const POLL_MS = 500;
  const FLUSH_MS = 3000;
  const html = document.documentElement;
  const base = location.pathname.replace(/player$/, "");
  const store = window.localStorage;
  const $ = (id) => document.getElementById(id);
  const state = { eboard: null, emergencies: [], etag: null, keys: null, index: 0, showing: null, held: {} };

  const unb64 = (text) => {
    text = text.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) text += "=";
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  };
  const payloadOf = (envelope) => JSON.parse(new TextDecoder().decode(unb64(envelope.payload)));
  const iso = (ms) => new Date(ms).toISOString();

  async function loadKeys() {
    try {
      const r = await fetch("/api/v1/keys/province");
      if (r.ok) state.keys = await r.json();
    } catch (err) { /* the cached copy below */ }
    if (state.keys) store.setItem("keng-keys", JSON.stringify(state.keys));
    else state.keys = JSON.parse(store.getItem("keng-keys") || "null");
  }

  // true: good; false: must not be used; null: this browser cannot check Ed25519.
  async function verify(envelope) {
    const key = (state.keys || []).find((k) => k.kid === envelope.kid);
    if (!key) return state.keys ? false : null;
    try {
      const pub = await crypto.subtle.importKey("raw", unb64(key.public_key), { name: "Ed25519" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "Ed25519" }, pub, unb64(envelope.sig), unb64(envelope.payload));
    } catch (err) {
      return null;
    }
  }

  async function accept(envelope) {
    if (!envelope) return null;
    const ok = await verify(envelope);
    const payload = payloadOf(envelope);
    const scope = payload.kind === "emergency" ? "emergency:" + payload.thread_id : "eboard";
    if (ok === false || (state.held[scope] || 0) > payload.version) {
      html.dataset.verified = "failed";
      return null;
    }
    html.dataset.verified = ok ? "ok" : "unsupported";
    state.held[scope] = payload.version;
    return payload;
  }

  async function apply(data) {
    state.eboard = await accept(data.eboard);
    state.emergencies = (await Promise.all(data.emergencies.map(accept))).filter(Boolean);
    store.setItem("keng-board", JSON.stringify(data));
    render();
  }

  async function poll() {
    try {
      const r = await fetch(base + "manifest", {
        headers: state.etag ? { "If-None-Match": state.etag } : {},
        cache: "no-store",
        credentials: "same-origin",
      });
      html.dataset.network = r.headers.get("X-Keng-Offline") ? "offline" : "online";
      if (r.status === 200) {
        const data = await r.json();
        state.etag = r.headers.get("X-Keng-Offline") ? null : data.etag;
        await apply(data);
      } else if (r.status === 401 || r.status === 403) {
        html.dataset.auth = "refused";
      }
    } catch (err) {
      html.dataset.network = "offline";
    }
    setTimeout(poll, POLL_MS);
  }

  const activeEmergency = (now) =>
    state.emergencies.find((e) => !e.ended && now >= Date.parse(e.valid_from) && now < Date.parse(e.ends));

  function slides(now) {
    if (!state.eboard) return [];
    const minutes = new Date(now).getHours() * 60 + new Date(now).getMinutes();
    const hhmm = (t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));
    const live = state.eboard.entries.filter((e) =>
      (!e.valid_from || now >= Date.parse(e.valid_from)) && (!e.valid_until || now < Date.parse(e.valid_until)) &&
      (!e.daypart || (minutes >= hhmm(e.daypart.start) && minutes < hhmm(e.daypart.end))));
    const top = Math.max(...live.map((e) => e.priority || 0));
    return live.filter((e) => (e.priority || 0) === top);
  }

  function finish(now, result) {
    const s = state.showing;
    if (!s) return;
    state.showing = null;
    const queue = JSON.parse(store.getItem("keng-proof") || "[]");
    queue.push({
      schema: 1, report_id: `${s.manifest.manifest_id}/${s.entry.id}/${s.started}`.slice(-64),
      manifest_id: s.manifest.manifest_id, manifest_version: s.manifest.version, group_id: s.manifest.group_id,
      item_id: String(s.entry.id).slice(0, 64), notice_id: s.entry.notice_id || null,
      started_at: iso(s.started), ended_at: iso(now), result, detail: "",
    });
    store.setItem("keng-proof", JSON.stringify(queue.slice(-1000)));
  }

  function show(manifest, entry, now, mode) {
    const s = state.showing;
    if (s && s.manifest.manifest_id === manifest.manifest_id && s.entry.id === entry.id) return;
    finish(now, mode === "emergency" && s && s.manifest.kind !== "emergency" ? "preempted" : "played");
    state.showing = { manifest, entry, started: now };
    if (html.dataset.mode !== mode) html.dataset.since = String(now);
    html.dataset.mode = mode;
    html.dataset.item = entry.id;
    $("label").textContent = mode === "emergency" ? "Thông báo khẩn cấp" : "";
    $("title").textContent = entry.title || "";
    $("body").textContent = entry.body || "";
    const media = entry.image_media_id && (manifest.media || []).find((m) => m.id === entry.image_media_id);
    $("image").hidden = !media;
    if (media) $("image").src = media.url;
  }

  function render() {
    const now = Date.now();
    const emergency = activeEmergency(now);
    if (emergency) {
      const slide = emergency.entries.find((e) => e.kind === "emergency_slide");
      if (slide) return show(emergency, slide, now, "emergency");
    }
    const list = slides(now);
    if (!list.length) {
      finish(now, "played");
      html.dataset.mode = "empty";
      return;
    }
    const s = state.showing;
    if (s && s.manifest.kind === "eboard" && now - s.started < (s.entry.duration_s || 6) * 1000 &&
        list.some((e) => e.id === s.entry.id)) return;
    if (s && s.manifest.kind === "eboard") state.index += 1;
    show(state.eboard, list[state.index % list.length], now, "playlist");
  }

  async function flush() {
    const queue = JSON.parse(store.getItem("keng-proof") || "[]");
    if (queue.length) {
      const batch = queue.slice(0, 100);
      try {
        const r = await fetch(base + "proof", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reports: batch }),
        });
        if (r.ok || r.status === 400 || r.status === 422) {
          const rest = JSON.parse(store.getItem("keng-proof") || "[]").slice(batch.length);
          store.setItem("keng-proof", JSON.stringify(rest));
          html.dataset.proofSent = String(Number(html.dataset.proofSent || 0) + (r.ok ? batch.length : 0));
        }
      } catch (err) { /* offline: kept for the next round */ }
    }
    setTimeout(flush, FLUSH_MS);
  }

  async function start() {
    if ("serviceWorker" in navigator) {
      try { await navigator.serviceWorker.register(base + "sw.js", { scope: base }); } catch (err) { /* plays without */ }
    }
    await loadKeys();
    const saved = store.getItem("keng-board");
    if (saved) await apply(JSON.parse(saved));
    setInterval(render, 250);
    poll();
    flush();
  }
  start();
})();
