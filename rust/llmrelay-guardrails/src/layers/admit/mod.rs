pub(crate) mod pre_call;
