"""Who is calling: requests signed with an enrolled identity's own key (RFC 9421 HTTP Message
Signatures), checked against the chain's identity registry. See decisions/0021-api-authentication."""
