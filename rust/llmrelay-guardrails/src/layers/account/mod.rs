pub(crate) mod logging_only;
