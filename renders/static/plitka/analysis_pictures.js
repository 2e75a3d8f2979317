// An analysis's page: pointing at (or focusing) a colour's row in the table shows only that
// colour's granules in the "Counted as" picture. The picture is a PNG of flat palette colours,
// so a colour's pixels are exactly its row's RGB. Where the picture comes from another origin
// (object storage without CORS) the canvas cannot be read, and the picture just stays as is.
"use strict";
(function () {
  const FADE = 0.85; // how far other colours fade toward white

  function setUp() {
    const picture = document.querySelector("img[data-colour-map]");
    const rows = document.querySelectorAll(".analysis-colours tr[data-rgb]");
    if (!picture || !rows.length) return;
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    let original = null;

    function load() {
      canvas.width = picture.naturalWidth;
      canvas.height = picture.naturalHeight;
      context.drawImage(picture, 0, 0);
      try {
        original = context.getImageData(0, 0, canvas.width, canvas.height);
      } catch (error) {
        original = null; // a tainted canvas: no highlighting
        return;
      }
      canvas.className = picture.className;
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", picture.alt);
      canvas.dataset.colourMap = "";
      picture.replaceWith(canvas);
    }

    function show(rgb) {
      if (!original) return;
      if (!rgb) {
        context.putImageData(original, 0, 0);
        return;
      }
      const [r, g, b] = rgb.split(",").map(Number);
      const picked = new ImageData(
        new Uint8ClampedArray(original.data), original.width, original.height);
      const d = picked.data;
      let count = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] === r && d[i + 1] === g && d[i + 2] === b) {
          count += 1;
          continue;
        }
        d[i] += (255 - d[i]) * FADE;
        d[i + 1] += (255 - d[i + 1]) * FADE;
        d[i + 2] += (255 - d[i + 2]) * FADE;
      }
      context.putImageData(picked, 0, 0);
      canvas.dataset.pickedPixels = String(count);
    }

    rows.forEach(function (row) {
      const pick = function () {
        rows.forEach((other) => other.classList.toggle("is-picked", other === row));
        show(row.dataset.rgb);
      };
      const drop = function () {
        row.classList.remove("is-picked");
        show(null);
      };
      row.addEventListener("mouseenter", pick);
      row.addEventListener("focus", pick);
      row.addEventListener("mouseleave", drop);
      row.addEventListener("blur", drop);
    });
    if (picture.complete && picture.naturalWidth) load();
    else picture.addEventListener("load", load, { once: true });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
