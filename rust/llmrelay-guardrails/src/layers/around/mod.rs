pub(crate) mod during_call;
