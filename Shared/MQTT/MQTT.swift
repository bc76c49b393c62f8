// MQTT: placeholder until its library lands.
