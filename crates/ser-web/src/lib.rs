//! The ser-web HTTP server and page: upload or record speech, see the emotion.
