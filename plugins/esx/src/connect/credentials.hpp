// Who logs in: libvirt's auth.conf format, then the terminal.
//
//   [credentials-lab]            [auth-esx-esx1.example.org]
//   username=root                credentials=lab
//   password=secret
//
// The file is $VIRTKIT_AUTH_FILE, else ~/.config/virtkit/auth.conf, else
// /etc/virtkit/auth.conf (the first that exists).  A section
// [auth-SCHEME-HOST] picks the credentials; SCHEME is esx, gsx or vpx.
#pragma once

#include <optional>
#include <string>

namespace virtkit::esx::vsphere {

struct Credentials {
    std::string user;
    std::string password;
};

// Credentials for scheme://host from the auth file `text`, if it names any.
// `uriUser`, when given, overrides the file's username (and a file entry for
// another user is not used).  Throws Error(CONFIG) on a malformed file.
std::optional<Credentials> credentialsFromAuthFile(const std::string &text, const std::string &scheme,
                                                   const std::string &host, const std::string &uriUser,
                                                   const std::string &fileName);

// The auth file to read, or "" when none exists.
std::string authFilePath();

// The whole lookup: auth file, then a prompt on /dev/tty (user name too when
// the URI has none).  Throws Error(AUTH) when neither gives a password.
Credentials findCredentials(const std::string &scheme, const std::string &host, const std::string &uriUser);

}  // namespace virtkit::esx::vsphere
