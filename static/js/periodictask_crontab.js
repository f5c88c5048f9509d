// The admin's periodic task form: say the chosen crontab in words under the crontab field
// (django-celery-beat does this with an inline script, which the Content-Security-Policy blocks).
(function () {
  var $ = window.django && window.django.jQuery;
  var data = document.getElementById("readable-crontabs");
  if (!$ || !data) {
    return;
  }
  var readable = JSON.parse(data.textContent);
  var help = $(".field-crontab .help");
  var original = help.html();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var words = readable[$("#id_crontab").val()];
    help.html(original).append($("<br>"), document.createTextNode("Translation: " + (words || "")));
  });
})();
