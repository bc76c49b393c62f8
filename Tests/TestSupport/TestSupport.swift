// TestSupport: placeholder until its library lands.
