"""Electronic identification (định danh điện tử, VNeID) accounts: OpenID Connect login at levels 1 and 2."""
