/* A button with data-copy-target="<id>" copies the value of that input or textarea's value to the clipboard and
   says so (data-copied-label); without the clipboard API the text is selected instead, for
   the user to copy by hand. */
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) {
    return;
  }
  var input = document.getElementById(button.dataset.copyTarget);
  if (!input) {
    return;
  }
  input.select();
  if (!navigator.clipboard) {
    return;
  }
  navigator.clipboard.writeText(input.value).then(function () {
    var label = button.querySelector("span");
    if (label && button.dataset.copiedLabel) {
      label.textContent = button.dataset.copiedLabel;
    }
  }, function () { /* refused (e.g. not a secure context): the text stays selected */ });
});
