"use strict";
// The recipe editor in the admin (a colour recipe's page). The rows stay plain text that
// the one recipe parser checks on save; this script only helps fill them in:
// - swatches of the stock colours (English and Russian names): a click fills the next row;
// - a colour chip beside each row, for the code or name typed in it;
// - the running sum of the percents, which must reach 100;
// - a live 256 px preview, rendered through the REST API on the interactive queue each time
//   the mix is complete (a repeated mix is answered at once: the API shares the render).
(() => {
  const PREFIX = "components"; // the inline formset of RecipeComponent
  const PREVIEW = { size: 256, angles: { perspective: 30, top: 0 } };
  const FINAL = ["succeeded", "failed", "canceled"];
  let palette = [];
  // Words in the visitor's language (plitka/words.js, over Django's JavaScript catalog).
  const _ = window.plitkaWords;
  const byName = new Map(); // code, English or Russian name (lower case) -> colour

  const rows = () =>
    [...document.querySelectorAll(`#${PREFIX}-group tr.form-row:not(.empty-form)`)].filter((row) => {
      const remove = row.querySelector(`input[name$="-DELETE"]`);
      return !(remove && remove.checked);
    });
  const colourOf = (row) => row.querySelector(`input[name$="-color_name"]`);
  const percentOf = (row) => row.querySelector(`input[name$="-percent_text"]`);
  const lookup = (text) => byName.get(text.trim().toLowerCase());

  function cookie(name) {
    const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
    return found ? decodeURIComponent(found.split("=")[1]) : "";
  }

  async function api(method, path, body) {
    const response = await fetch("/api/v1/" + path, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": cookie("csrftoken") },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error && data.error.message) || `HTTP ${response.status}`);
    return data;
  }

  // ---- Swatches, chips and the running sum ------------------------------------------------

  function fillNextRow(code) {
    let row = rows().find((r) => !colourOf(r).value.trim());
    if (!row) {
      const add = document.querySelector(`#${PREFIX}-group .add-row a`);
      if (!add) return; // eight rows: the recipe's limit
      add.click();
      row = rows().find((r) => !colourOf(r).value.trim());
    }
    colourOf(row).value = code;
    percentOf(row).focus();
    changed();
  }

  function drawPalette() {
    const box = document.createElement("div");
    box.id = "recipe-palette";
    for (const colour of palette) {
      const button = document.createElement("button");
      button.type = "button";
      button.style.background = colour.hex;
      button.title = _("%(name)s (%(code)s): add to the mix", { name: `${colour.name_en} / ${colour.name_ru}`, code: colour.code });
      button.dataset.code = colour.code;
      const label = document.createElement("span");
      label.textContent = `${colour.name_en} · ${colour.name_ru}`;
      button.append(label);
      button.addEventListener("click", () => fillNextRow(colour.code));
      box.append(button);
    }
    const sum = document.createElement("p");
    sum.id = "recipe-sum";
    // Swatches and sum on the left, the preview beside them: seen while the rows change.
    const left = document.createElement("div");
    left.append(box, sum);
    const editor = document.createElement("div");
    editor.id = "recipe-editor";
    editor.append(left, document.getElementById("recipe-preview"));
    document.getElementById(`${PREFIX}-group`).before(editor);
  }

  function drawChip(row) {
    let chip = row.querySelector(".recipe-chip");
    if (!chip) {
      chip = document.createElement("span");
      chip.className = "recipe-chip";
      const name = document.createElement("span");
      name.className = "recipe-chip-name";
      colourOf(row).after(chip, name);
    }
    const colour = lookup(colourOf(row).value);
    chip.classList.toggle("unknown", !colour);
    chip.style.background = colour ? colour.hex : "";
    chip.nextElementSibling.textContent = colour ? `${colour.name_en} / ${colour.name_ru}` : "";
  }

  // The mix as the rows say it now: {recipe, sum, complete}.
  function currentMix() {
    const parts = [];
    let sum = 0;
    let complete = true;
    for (const row of rows()) {
      const text = colourOf(row).value.trim();
      const percentText = percentOf(row).value.trim();
      if (!text && !percentText) continue;
      const colour = lookup(text);
      const percent = /^\d{1,3}$/.test(percentText) ? Number(percentText) : NaN;
      if (!colour || !(percent >= 1 && percent <= 100)) complete = false;
      if (Number.isFinite(percent)) sum += percent;
      if (colour && Number.isFinite(percent)) parts.push(`${colour.code}:${percent}`);
    }
    return { recipe: parts.join(","), sum, complete: complete && parts.length > 0 && sum === 100 };
  }

  function changed() {
    rows().forEach(drawChip);
    const mix = currentMix();
    const sum = document.getElementById("recipe-sum");
    const left = 100 - mix.sum;
    sum.textContent = left === 0
      ? _("Sum: 100 %")
      : left > 0
        ? _("Sum: %(sum)s % (%(left)s to go)", { sum: mix.sum, left })
        : _("Sum: %(sum)s % (%(over)s too many)", { sum: mix.sum, over: -left });
    sum.className = left === 0 ? "done" : "short";
    if (mix.complete) schedulePreview(mix.recipe);
  }

  // ---- The live preview ---------------------------------------------------------------------

  let timer = null;
  let generation = 0; // a newer mix makes older answers stale
  let lastShown = "";

  function schedulePreview(recipe) {
    clearTimeout(timer);
    timer = setTimeout(() => preview(recipe), 400);
  }

  async function preview(recipe) {
    const product = document.getElementById("preview-product").value;
    const view = document.getElementById("preview-view").value;
    const key = `${product}|${view}|${recipe}`;
    if (!product || key === lastShown) return;
    const mine = ++generation;
    const status = document.getElementById("preview-status");
    status.textContent = _("Rendering %(recipe)s…", { recipe });
    try {
      let job = await api("POST", "renders/", {
        product, recipe, view, angle: PREVIEW.angles[view], size: PREVIEW.size,
      });
      while (!FINAL.includes(job.status) && mine === generation) {
        status.textContent = _("Rendering %(recipe)s: %(progress)s %", { recipe, progress: job.progress });
        job = await api("GET", `renders/${job.id}/?wait=10`);
      }
      if (mine !== generation) return;
      if (job.status !== "succeeded") throw new Error(job.error ? job.error.message : job.status);
      const image = document.getElementById("preview-image");
      image.src = job.result.image;
      image.hidden = false;
      lastShown = key;
      const error = job.fidelity && job.fidelity.max_share_error_pp;
      status.textContent = job.recipe_canonical + (error === undefined ? "" : " · " + _("largest share error %(error)s pp", { error: error.toFixed(1) }));
    } catch (problem) {
      if (mine === generation) status.textContent = _("No preview: %(reason)s", { reason: problem.message });
    }
  }

  async function loadProducts() {
    const select = document.getElementById("preview-product");
    try {
      const data = await api("GET", "products/?page_size=100");
      for (const product of data.results) {
        const option = document.createElement("option");
        option.value = product.sku;
        option.textContent = `${product.name} (${product.sku})`;
        select.append(option);
      }
    } catch (problem) {
      document.getElementById("preview-status").textContent = _("No preview: %(reason)s", { reason: problem.message });
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const data = document.getElementById("plitka-palette");
    if (!data || !document.getElementById(`${PREFIX}-group`)) return;
    palette = JSON.parse(data.textContent);
    for (const colour of palette) {
      for (const name of [colour.code, colour.name_en, colour.name_ru]) byName.set(name.toLowerCase(), colour);
    }
    drawPalette();
    const group = document.getElementById(`${PREFIX}-group`);
    group.addEventListener("input", changed);
    group.addEventListener("change", changed);
    document.addEventListener("formset:added", changed);
    document.addEventListener("formset:removed", changed);
    for (const id of ["preview-product", "preview-view"]) {
      document.getElementById(id).addEventListener("change", () => { lastShown = ""; changed(); });
    }
    await loadProducts();
    changed();
  });
})();
