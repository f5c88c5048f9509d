// Default the time zone to the browser's; the server falls back to UTC without it. Loaded only
// with a fresh form: after an error the reader's own choice is kept.
(function () {
  var select = document.getElementById("id_time_zone");
  if (!select) {
    return;
  }
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (zone && Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) {
    select.value = zone;
  }
})();
