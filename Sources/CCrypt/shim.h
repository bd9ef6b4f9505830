// libxcrypt (Debian: libcrypt-dev): bcrypt password hashes for agent logins.
#include <crypt.h>
