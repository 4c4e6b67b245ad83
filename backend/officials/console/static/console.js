// Kẻng staff console: small conveniences only. Every page works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Select every item on the queue page for bulk assignment.
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("input.pick").forEach((box) => { box.checked = all.checked; });
    });
  }
  // Answer templates fill the answer box, where the text can still be edited before sending.
  document.querySelectorAll("select.template-pick").forEach((pick) => {
    pick.addEventListener("change", () => {
      const option = pick.selectedOptions[0];
      const target = document.getElementById(pick.dataset.target);
      if (target && option && option.dataset.text) { target.value = option.dataset.text; }
    });
  });
  // Irreversible steps (reject, forward, merge) ask first.
  document.querySelectorAll("form.confirm").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm || "?")) { event.preventDefault(); }
    });
  });
});
