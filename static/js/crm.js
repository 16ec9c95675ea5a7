/* Confirmation before actions that cannot be undone: add data-confirm="question" to a form
   or to the submit button that needs it. */
document.addEventListener("submit", function (event) {
  var question = (event.submitter && event.submitter.dataset.confirm) || event.target.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
