"use strict";
// The Plitka tile configurator: a storefront's use of the public REST API, end to end.
//
//   GET  /api/v1/colors/                 the stock granule colours: code, names, hex
//   GET  /api/v1/products/               the tiles
//   POST /api/v1/renders/                {product, recipe, view, angle, size}
//        201: a new render was queued; 200: an identical one exists (finished or on its way)
//   GET  /api/v1/renders/{id}/?wait=20   a long poll: answered as soon as the job's status or
//                                        progress changes (or after 20 s), so following a
//                                        render takes a handful of requests
//
// Every error is {"error": {"code": ..., "message": ..., "fields": {...}}}: show the message.
// A storefront's server sends `Authorization: Api-Key <key>`; this page does the same with a
// key pasted into it, or uses the signed-in staff session (with Django's CSRF token).

const settings = JSON.parse(document.getElementById("plitka-settings").textContent);
const $ = (id) => document.getElementById(id);
const MAX_COLOURS = 8; // the recipe parser's limit
const FINAL = ["succeeded", "failed", "canceled"];
const SHARE_TARGET_PP = 3; // the accuracy a render is held to (README, "Renders")

// Words in the visitor's language (plitka/words.js, over Django's JavaScript catalog).
const _ = window.plitkaWords;
// Colour names in the page's language first, the other one beside it.
const RUSSIAN = document.documentElement.lang.startsWith("ru");
const nameOf = (colour) => (RUSSIAN ? colour.name_ru : colour.name_en);
const otherNameOf = (colour) => (RUSSIAN ? colour.name_en : colour.name_ru);
const STATUS = {
  queued: _("queued"), running: _("running"), succeeded: _("succeeded"), failed: _("failed"), canceled: _("canceled"),
};

// ---- Talking to the API ------------------------------------------------------------------

let apiKey = sessionStorage.getItem("plitka-api-key") || "";

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    const fields = Object.entries(error.fields || {}).map(([name, problems]) => `${name}: ${[].concat(problems).join(" ")}`);
    super([error.message || `HTTP ${status}`, ...fields].join(" "));
    this.status = status;
  }
}

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return found ? decodeURIComponent(found.split("=")[1]) : "";
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (settings.session) headers["X-CSRFToken"] = cookie("csrftoken");
  else headers["Authorization"] = "Api-Key " + apiKey;
  const response = await fetch(settings.api + path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return { status: response.status, data };
}

async function listAll(path) {
  const { data } = await api("GET", path);
  return Array.isArray(data) ? data : data.results;
}

// ---- The mix: whole percents that always sum to 100 ---------------------------------------

let colours = new Map(); // code -> {code, name_en, name_ru, hex}
let mix = []; // [{code, percent}] in the order they were added

// Split `total` in proportion to `weights` as whole numbers, each at least 1 (the largest
// remainders get the leftover units), so rounding never breaks the sum.
function apportion(weights, total) {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum ? (w * total) / sum : total / weights.length));
  const whole = exact.map((x) => Math.max(1, Math.floor(x)));
  let left = total - whole.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length, left--) whole[byRemainder[k][1]]++;
  for (; left < 0; left++) whole[whole.indexOf(Math.max(...whole))]--; // the floor of 1 overshot
  return whole;
}

// One colour's share set by its slider; the others keep their proportions in what is left.
function setShare(index, percent) {
  const others = mix.filter((_, i) => i !== index);
  percent = Math.min(Math.max(Math.round(percent), 1), 100 - others.length);
  const shares = others.length ? apportion(others.map((c) => c.percent), 100 - percent) : [];
  let k = 0;
  mix.forEach((c, i) => { c.percent = i === index ? percent : shares[k++]; });
}

function addColour(code) {
  if (mix.length >= MAX_COLOURS || mix.some((c) => c.code === code)) return;
  mix.push({ code, percent: 1 });
  setShare(mix.length - 1, mix.length === 1 ? 100 : Math.round(100 / mix.length));
  drawMix();
}

function removeColour(index) {
  mix.splice(index, 1);
  const shares = mix.length ? apportion(mix.map((c) => c.percent), 100) : [];
  mix.forEach((c, i) => { c.percent = shares[i]; });
  drawMix();
}

const recipeText = () => mix.map((c) => `${c.code}:${c.percent}`).join(",");

// ---- Drawing the controls -----------------------------------------------------------------

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function drawPalette() {
  $("palette").replaceChildren(...[...colours.values()].map((c) => {
    const button = element("button", { type: "button", title: `${nameOf(c)} / ${otherNameOf(c)} (${c.code})` }, element("span", {}, c.code));
    button.style.background = c.hex;
    button.dataset.code = c.code;
    button.addEventListener("click", () => addColour(c.code));
    return button;
  }));
}

function drawMix() {
  $("mix").replaceChildren(...mix.map((c, index) => {
    const colour = colours.get(c.code);
    const chip = element("span", { className: "chip" });
    chip.style.background = colour.hex;
    const slider = element("input", { type: "range", min: 1, max: 100, value: c.percent, disabled: mix.length === 1 });
    slider.setAttribute("aria-label", _("%(colour)s percent", { colour: nameOf(colour) }));
    slider.addEventListener("input", () => { setShare(index, Number(slider.value)); updateShares(); });
    const remove = element("button", { type: "button", title: _("Remove"), textContent: "×" });
    remove.addEventListener("click", () => removeColour(index));
    const row = element("li", {}, chip,
      element("span", { className: "name" }, nameOf(colour), element("small", {}, `${otherNameOf(colour)} · ${c.code}`)),
      slider, element("output", {}, `${c.percent} %`), remove);
    row.dataset.code = c.code;
    return row;
  }));
  for (const button of $("palette").children) {
    button.disabled = mix.length >= MAX_COLOURS || mix.some((c) => c.code === button.dataset.code);
  }
  updateShares();
}

// Sliders moved: show every share and the sum without rebuilding the rows being dragged.
function updateShares() {
  [...$("mix").children].forEach((row, i) => {
    row.querySelector("input").value = mix[i].percent;
    row.querySelector("output").textContent = `${mix[i].percent} %`;
  });
  const sum = mix.reduce((a, c) => a + c.percent, 0);
  $("mix-sum").textContent = mix.length ? _("%(recipe)s · sum %(sum)s %", { recipe: recipeText(), sum }) : _("none chosen");
  $("render").disabled = !mix.length;
}

function progress(percent, label) {
  $("progress").hidden = false;
  $("progress").querySelector(".bar").style.width = `${percent}%`;
  $("progress").querySelector(".label").textContent = label;
}

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "message error" : "message";
}

// ---- Rendering ----------------------------------------------------------------------------

async function render() {
  const request = {
    product: $("product").value, recipe: recipeText(), view: $("view").value,
    angle: Number($("angle").value), size: Number($("size").value),
  };
  $("render").disabled = true;
  say("");
  progress(0, _("sending"));
  const started = performance.now();
  try {
    let { status, data: job } = await api("POST", "renders/", request);
    const shared = status === 200; // asked for before: the same render, finished or on its way
    let seen = "";
    while (!FINAL.includes(job.status)) {
      progress(job.progress, `${STATUS[job.status] || job.status} · ${job.progress} %`);
      // Unchanged after the wait (or the server had no waiting slot free): pause a second.
      if (seen === `${job.status}/${job.progress}`) await new Promise((r) => setTimeout(r, 1000));
      seen = `${job.status}/${job.progress}`;
      job = (await api("GET", `renders/${job.id}/?wait=20`)).data;
    }
    if (job.status !== "succeeded") throw new Error(job.error ? job.error.message : _("the render was %(status)s", { status: STATUS[job.status] }));
    progress(100, _("done"));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    say(shared ? _("Rendered before: answered at once (%(seconds)s s).", { seconds }) : _("Rendered in %(seconds)s s.", { seconds }));
    show(job);
  } catch (error) {
    say(error.message, true);
    $("progress").hidden = true;
  } finally {
    $("render").disabled = !mix.length;
  }
}

function show(job) {
  $("picture-img").src = job.result.image;
  const engine = job.telemetry
    ? " · " + _("%(engine)s, %(seconds)s s on the worker", { engine: job.engine, seconds: job.telemetry.total_s.toFixed(2) })
    : "";
  $("picture-caption").textContent =
    `${job.product} · ${job.recipe_canonical} · ${job.params.view} ${job.params.angle}° · ${job.result.width}×${job.result.height} px${engine}`;
  $("picture").hidden = false;
  const fidelity = job.fidelity || {};
  const measured = fidelity.shares || {};
  $("accuracy").querySelector("tbody").replaceChildren(...job.recipe.map(({ color, percent }) => {
    const share = measured[color];
    const error = share === undefined ? null : Math.abs(share - percent);
    const verdict = error === null ? "" : error <= SHARE_TARGET_PP ? "pass" : "over";
    return element("tr", {},
      element("td", {}, colours.has(color) ? nameOf(colours.get(color)) : color),
      element("td", {}, `${percent} %`),
      element("td", {}, share === undefined ? "–" : `${share.toFixed(1)} %`),
      element("td", { className: verdict }, error === null ? "–" : `${error.toFixed(1)} pp`));
  }));
  const largest = fidelity.max_share_error_pp;
  const appearance = fidelity.appearance_delta_e00;
  $("accuracy-summary").textContent = [
    largest === undefined ? "" : _("Largest share error %(error)s pp (target ≤ %(target)s).", { error: largest.toFixed(1), target: SHARE_TARGET_PP }),
    appearance === undefined || appearance === null ? "" : _("Whole face ΔE2000 %(delta)s from the recipe's mix.", { delta: appearance.toFixed(1) }),
  ].join(" ");
  $("accuracy").hidden = false;
}

// ---- Start --------------------------------------------------------------------------------

async function load() {
  try {
    const [colourList, products] = await Promise.all([listAll("colors/?page_size=100"), listAll("products/?page_size=100")]);
    colours = new Map(colourList.map((c) => [c.code, c]));
    $("product").replaceChildren(...products.map((p) => element("option", { value: p.sku }, `${p.name} (${p.sku})`)));
    drawPalette();
    mix = [];
    for (const code of ["RED", "BLACK"]) if (colours.has(code)) addColour(code);
    if (mix.length === 2) setShare(0, 60);
    drawMix();
    $("key-row").hidden = true;
    say("");
  } catch (error) {
    say(error.status === 401 || error.status === 403 ? _("Paste an API key (or sign in as staff) to use the configurator.") : error.message, true);
    $("key-row").hidden = settings.session;
  }
}

function setUp() {
  $("view").replaceChildren(...settings.views.map(([value, label]) => element("option", { value, selected: value === settings.view }, label)));
  $("size").replaceChildren(...settings.sizes.map((s) => element("option", { value: s }, `${s} px`)));
  Object.assign($("angle"), { min: settings.angle.low, max: settings.angle.high, value: settings.angle.initial });
  const showAngle = () => { $("angle-value").textContent = $("angle").value; };
  $("angle").addEventListener("input", showAngle);
  showAngle();
  $("render").addEventListener("click", render);
  $("use-key").addEventListener("click", () => {
    apiKey = $("api-key").value.trim();
    sessionStorage.setItem("plitka-api-key", apiKey);
    load();
  });
  $("key-row").hidden = settings.session || Boolean(apiKey);
  if (settings.session || apiKey) load();
}

setUp();
