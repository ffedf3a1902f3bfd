package halt

// VerifyTimeout exposes the verification deadline to the external tests.
var VerifyTimeout = (*Engine).verifyTimeout
