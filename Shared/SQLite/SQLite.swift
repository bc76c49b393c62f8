// SQLite: placeholder until its library lands.
