/* The audit question editor: shows the fields that apply to the chosen type of question
   ([data-kinds] lists the types) and the answers of the question chosen under "Ask only when"
   ([data-condition-group]). Without JavaScript every field shows, each saying when it applies;
   the server ignores what does not apply. */
(function () {
  "use strict";
  var form = document.querySelector("[data-question-form]");
  if (!form) {
    return;
  }
  var kind = form.querySelector("[data-question-kind]");
  var condition = form.querySelector("[data-condition-question]");

  function showKinds() {
    var chosen = kind ? kind.value : "";
    form.querySelectorAll("[data-kinds]").forEach(function (block) {
      var kinds = block.dataset.kinds.split(" ");
      block.hidden = chosen !== "" && kinds.indexOf(chosen) === -1;
    });
  }

  function showCondition() {
    var chosen = condition ? condition.value : "";
    form.querySelectorAll("[data-condition-group]").forEach(function (group) {
      group.hidden = group.dataset.conditionGroup !== chosen;
    });
  }

  if (kind) {
    kind.addEventListener("change", showKinds);
    showKinds();
  }
  if (condition) {
    condition.addEventListener("change", showCondition);
    showCondition();
  }
})();
