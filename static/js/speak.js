/* Read-aloud: a progressive enhancement. The button stays hidden unless this browser has a
   speech voice for the page's language; without JavaScript nothing changes. */
(function () {
  "use strict";
  var synth = window.speechSynthesis;
  var button = document.getElementById("read-aloud");
  if (!synth || !button || !window.SpeechSynthesisUtterance) return;
  // Page lang -> the BCP 47 prefixes a voice may carry.
  var wanted = {
    "zh-Hans": ["zh-CN", "zh-SG", "cmn-Hans", "zh"],
    "zh-Hant": ["zh-TW", "zh-HK", "cmn-Hant", "yue"],
    "en": ["en"],
    "ug": ["ug"]
  }[document.documentElement.lang] || [document.documentElement.lang];

  function pickVoice() {
    var voices = synth.getVoices();
    for (var i = 0; i < wanted.length; i++) {
      for (var j = 0; j < voices.length; j++) {
        if (voices[j].lang.replace("_", "-").indexOf(wanted[i]) === 0) return voices[j];
      }
    }
    return null;
  }

  function text() {
    var parts = [];
    var nodes = document.querySelectorAll(
      "main h1, main .prose, main .label, main legend:not(.visually-hidden), main .hint, " +
      "main .radios-label, main .checkboxes-label, main .help-body, main .error-message");
    for (var i = 0; i < nodes.length; i++) parts.push(nodes[i].innerText);
    return parts.join(". \n");
  }

  function ready() {
    var voice = pickVoice();
    if (!voice) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (synth.speaking) { synth.cancel(); return; }
      var say = new SpeechSynthesisUtterance(text());
      say.voice = voice;
      say.lang = voice.lang;
      synth.speak(say);
    });
  }

  if (synth.getVoices().length) ready();
  else if (synth.addEventListener) synth.addEventListener("voiceschanged", ready, { once: true });
})();
