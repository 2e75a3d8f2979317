"use strict";
// Words in the visitor's language for the project's scripts: Django's JavaScript catalog
// (/jsi18n/, loaded before this; Russian for a browser that asks for it), or the English
// text itself without it. "%(name)s" in a text is filled from `values`.
window.plitkaWords = function (text, values) {
  const translated = window.gettext ? window.gettext(text) : text;
  return values ? translated.replace(/%\((\w+)\)s/g, (_match, name) => values[name]) : translated;
};
