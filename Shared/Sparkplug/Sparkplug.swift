// Sparkplug: placeholder until its library lands.
