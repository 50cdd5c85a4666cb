"""facechat's assistant half: understanding requests and holding the conversation."""
